//! tilefold
