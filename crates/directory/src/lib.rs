//! The directory (skeleton; being written).
