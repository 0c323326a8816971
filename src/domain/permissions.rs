//! What a user (or, by configuration, a satellite) may do beyond syncing its own queue. Only the
//! patient sync API asks for permissions; the satellite API authorises by site alone.

/// May load a patient and read its sync status.
pub const READ_PATIENT_RECORD: &str = "read-patient-record";
/// May clear what the patient sync stored for a patient.
pub const CLEAR_PATIENT_SYNC: &str = "clear-patient-sync";

/// Every permission there is; configuration and `satsync user add` refuse any other name.
pub const ALL: [&str; 2] = [READ_PATIENT_RECORD, CLEAR_PATIENT_SYNC];
