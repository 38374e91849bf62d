//! herald-inbound
