//! The PowerShell language subset (skeleton; being written).
