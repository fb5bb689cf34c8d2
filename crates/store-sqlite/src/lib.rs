//! The embedded SQLite store (skeleton; being written).
