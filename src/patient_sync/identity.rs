//! Which patient an identifier names, which identifiers go with it, and where its data lives.
//!
//! A satellite's site code is its site id in upper-case hex, at least four digits (site 40570 is
//! `9E7A`): the code in a pid such as `9E7A;3` names the satellite that holds that patient.

use crate::config::PatientConfig;
use crate::domain::directory::Directory;
use crate::domain::ids::SiteId;
use crate::patient::ids::{Jpid, PatientId, SiteCode, SourcePid};
use crate::store::{PatientWrites, Storage};

use super::{PatientSyncError, Result};

/// The site code of a satellite.
pub fn site_code(site: SiteId) -> SiteCode {
    SiteCode::parse(&format!("{:04X}", site.0)).expect("four or more hex digits are a site code")
}

/// The satellite a site code names, if there is one.
pub fn site_of_code(code: &SiteCode, directory: &Directory) -> Option<SiteId> {
    let id = u32::from_str_radix(code.as_str(), 16).ok().map(SiteId)?;
    (id != directory.primary() && directory.site(id).is_some()).then_some(id)
}

/// `id` with the identifiers derived from it: an ICN (or an `HDR;`/`VLER;` pid, which carries
/// one) brings the ICN, `HDR;icn` and `VLER;icn`.
pub fn with_derived(id: &PatientId) -> Vec<PatientId> {
    let icn = match id {
        PatientId::Icn(icn) | PatientId::Source(SourcePid::Hdr(icn) | SourcePid::Vler(icn)) => icn,
        _ => return vec![id.clone()],
    };
    vec![
        PatientId::Icn(icn.clone()),
        PatientId::Source(icn.hdr_pid()),
        PatientId::Source(icn.vler_pid()),
    ]
}

/// The sources of a patient with these identifiers: the satellites its site pids name that
/// exist, and the secondary sources it has an id at that are configured.
pub fn source_pids(identifiers: &[PatientId], config: &PatientConfig, directory: &Directory) -> Vec<SourcePid> {
    let mut pids: Vec<SourcePid> = identifiers
        .iter()
        .filter_map(|id| match id {
            PatientId::Source(pid) => Some(pid),
            _ => None,
        })
        .filter(|pid| match pid {
            SourcePid::Site { site, .. } => site_of_code(site, directory).is_some(),
            SourcePid::Dod(_) => config.dod_url.is_some(),
            SourcePid::Hdr(_) => config.hdr_url.is_some(),
            SourcePid::Vler(_) => config.vler_url.is_some(),
        })
        .cloned()
        .collect();
    pids.sort_by_key(SourcePid::source);
    pids.dedup();
    pids
}

/// The base URL of a secondary source, when one is configured.
pub fn secondary_url<'c>(pid: &SourcePid, config: &'c PatientConfig) -> Option<&'c str> {
    match pid {
        SourcePid::Site { .. } => None,
        SourcePid::Dod(_) => config.dod_url.as_deref(),
        SourcePid::Hdr(_) => config.hdr_url.as_deref(),
        SourcePid::Vler(_) => config.vler_url.as_deref(),
    }
}

/// The patient `pid` names, if it is known.
pub fn known_jpid(storage: &Storage, pid: &PatientId) -> Result<Option<Jpid>> {
    Ok(match pid {
        PatientId::Jpid(jpid) => (!storage.patient_identifiers(jpid)?.is_empty()).then(|| jpid.clone()),
        other => storage.patient_jpid(other)?,
    })
}

/// Adds `ids` (with what they derive) to the identifiers of `jpid`, which are `current`, in
/// `batch`, after checking that none belongs to another patient; returns the patient's
/// identifiers afterwards. On a conflict nothing is added and the error names the identifier
/// and both patients.
pub fn associate(
    storage: &Storage,
    batch: &mut PatientWrites,
    jpid: &Jpid,
    current: &[PatientId],
    ids: &[PatientId],
) -> Result<Vec<PatientId>> {
    let mut all = current.to_vec();
    let mut added = Vec::new();
    for id in ids.iter().flat_map(with_derived) {
        if matches!(id, PatientId::Jpid(_)) || all.contains(&id) || added.contains(&id) {
            continue;
        }
        if let Some(other) = storage.patient_jpid(&id)? {
            if other != *jpid {
                return Err(PatientSyncError::Conflict(format!(
                    "identifier {id} already belongs to patient {other}, not to {jpid}"
                )));
            }
        }
        added.push(id);
    }
    for id in &added {
        batch.put_patient_identifier(id, jpid);
    }
    all.extend(added);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_codes_are_upper_hex_of_at_least_four_digits() {
        assert_eq!(site_code(SiteId(0x9E7A)).as_str(), "9E7A");
        assert_eq!(site_code(SiteId(2)).as_str(), "0002");
        assert_eq!(site_code(SiteId(0x1_0000)).as_str(), "10000");
    }

    #[test]
    fn an_icn_brings_hdr_and_vler_and_a_site_pid_stands_alone() {
        let icn = PatientId::parse("10108V420871").unwrap();
        let derived: Vec<String> = with_derived(&icn).iter().map(ToString::to_string).collect();
        assert_eq!(derived, ["10108V420871", "HDR;10108V420871", "VLER;10108V420871"]);
        let vler = PatientId::parse("VLER;10108V420871").unwrap();
        assert_eq!(with_derived(&vler), with_derived(&icn));
        let site = PatientId::parse("9E7A;3").unwrap();
        assert_eq!(with_derived(&site), vec![site.clone()]);
        let dod = PatientId::parse("DOD;0000000003").unwrap();
        assert_eq!(with_derived(&dod), vec![dod.clone()]);
    }
}
