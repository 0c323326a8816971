//! What a request asks for, as the handlers match on it: which API and which endpoint. The
//! paths that name them are `http`'s route table.

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Site,
    User,
    QueuedRecords,
    QueuedRecordsCount,
    AcknowledgedRecords,
    InitialDump,
    NameStoreJoin,
    PatientHistory,
    Initialise,
    SiteStatus,
    CentralRecords,
    /// v6, open-mSupply's central API, answered as a central with nothing of its own.
    CentralPull,
    CentralPush,
    CentralSiteStatus,
}

/// Which API's handlers serve a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// v1: the calls of v2 with numbered tables and fields.
    V1,
    /// v2 and v3 (the same format).
    V2,
    /// The patient lookups, at `/sync/v4/` and `/api/v4/` (the real clients use the latter).
    V4,
    /// open-mSupply remote sites.
    V5,
    /// The v6 calls an open-mSupply remote makes of the central its `site` names.
    V6,
}
