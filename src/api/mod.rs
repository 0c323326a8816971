//! One folder per API surface, one thin file per endpoint: authenticate → decode (`wire`) → act
//! (`sync`) → encode (`wire`). No business rule and no storage type here.

pub mod patient;
pub mod v2;
pub mod v4;
pub mod v5;
pub mod v6;
