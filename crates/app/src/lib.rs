//! herald-app
