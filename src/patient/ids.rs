//! Patient identifiers: the forms a pid takes, their parsing, and the identifiers derived from one
//! another (HDR and VLER from an ICN, DOD from an EDIPI). Every type holds one spelling of its
//! value, so that an identifier finds its JPID whatever case a client sent.

use std::fmt;

use super::Source;

/// The accepted forms, listed by every error about a pid so the client can correct it.
const ACCEPTED_FORMS: &str = "site;dfn (9E7A;3), icn (10108V420871), DOD;edipi (DOD;4325678), \
     HDR;icn (HDR;10108V420871), VLER;icn (VLER;10108V420871), \
     jpid (52833885-af7c-4899-90be-b3a6630b2369)";

/// An identifier that cannot be used, with the message the client is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A pid in none of the accepted forms.
    #[error("pid {value:?} is not valid; accepted forms: {forms}", forms = ACCEPTED_FORMS)]
    Pid { value: String },
    /// An ICN that is not digits, `V`, digits.
    #[error("icn {value:?} is not valid: an icn is digits, V, digits (10108V420871)")]
    Icn { value: String },
    /// An EDIPI that is not digits only.
    #[error("edipi {value:?} is not valid: an edipi is digits only (4325678)")]
    Edipi { value: String },
    /// A `DOD;…` pid where the demographics load asks for an EDIPI; the wording is the API's.
    #[error("A dod pid is invalid, please use an edipi or icn.")]
    DodPidInsteadOfEdipi,
    /// A site code that is not 3 or more hex digits or letters, or names a secondary source.
    #[error("site code {value:?} is not valid: a site code is 3 or more hex digits or letters (9E7A)")]
    SiteCode { value: String },
    /// A source code that is neither a site code nor DOD, HDR or VLER.
    #[error("source {value:?} is not valid: a source is a site code (9E7A), DOD, HDR or VLER")]
    Source { value: String },
    /// A JPID that is not a UUID v4.
    #[error("jpid {value:?} is not valid: a jpid is a uuid v4 (52833885-af7c-4899-90be-b3a6630b2369)")]
    Jpid { value: String },
}

/// Serde as the plain text, read back through `parse`: a stored or received id is always valid.
macro_rules! serde_as_text {
    ($type:ident) => {
        impl TryFrom<String> for $type {
            type Error = IdError;
            fn try_from(text: String) -> Result<$type, IdError> {
                $type::parse(&text)
            }
        }
        impl From<$type> for String {
            fn from(id: $type) -> String {
                id.to_string()
            }
        }
    };
}

/// A satellite's site code, upper case (the spelling legacy servers use).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteCode(String);

impl SiteCode {
    /// 3 or more hex digits or letters, in either case. The secondary sources' names are refused:
    /// `DOD;…`, `HDR;…` and `VLER;…` pids would otherwise read as pids at a site.
    pub fn parse(text: &str) -> Result<SiteCode, IdError> {
        let code = text.to_ascii_uppercase();
        let well_formed = code.len() >= 3 && code.bytes().all(|byte| byte.is_ascii_alphanumeric());
        if !well_formed || matches!(code.as_str(), "DOD" | "HDR" | "VLER") {
            return Err(IdError::SiteCode {
                value: text.to_string(),
            });
        }
        Ok(SiteCode(code))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A national patient id: digits, `V`, digits (`10108V420871`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Icn(String);

impl Icn {
    pub fn parse(text: &str) -> Result<Icn, IdError> {
        let well_formed = text
            .split_once('V')
            .is_some_and(|(left, right)| is_digits(left) && is_digits(right));
        if !well_formed {
            return Err(IdError::Icn {
                value: text.to_string(),
            });
        }
        Ok(Icn(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The patient's pid at HDR, which knows patients by ICN.
    pub fn hdr_pid(&self) -> SourcePid {
        SourcePid::Hdr(self.clone())
    }
    /// The patient's pid at VLER, which knows patients by ICN.
    pub fn vler_pid(&self) -> SourcePid {
        SourcePid::Vler(self.clone())
    }
}

/// A DOD person id (EDIPI): digits only, kept as sent since leading zeros are part of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Edipi(String);

impl Edipi {
    /// Digits only. A `DOD;…` pid is refused with the API's own message, since clients confuse the
    /// two.
    pub fn parse(text: &str) -> Result<Edipi, IdError> {
        if text.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("DOD;")) {
            return Err(IdError::DodPidInsteadOfEdipi);
        }
        if !is_digits(text) {
            return Err(IdError::Edipi {
                value: text.to_string(),
            });
        }
        Ok(Edipi(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The patient's pid at DOD, which knows patients by EDIPI.
    pub fn dod_pid(&self) -> SourcePid {
        SourcePid::Dod(self.clone())
    }
}

/// The primary's own patient id, grouping every identifier of one person: a UUID v4, lower case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jpid(String);

impl Jpid {
    /// A UUID v4 in either case; kept in lower case, the spelling the primary generates.
    pub fn parse(text: &str) -> Result<Jpid, IdError> {
        if !is_uuid_v4(text) {
            return Err(IdError::Jpid {
                value: text.to_string(),
            });
        }
        Ok(Jpid(text.to_ascii_lowercase()))
    }
    /// A new random JPID, for a person no identifier of the request belongs to yet.
    pub fn generate() -> Jpid {
        Jpid(random_uuid_v4())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A patient's identifier at one source: what the source itself knows the patient by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SourcePid {
    /// `site;dfn`: the DFN is the patient's record number at the site, a number (leading zeros
    /// name the same record, so they are dropped).
    Site { site: SiteCode, dfn: u64 },
    /// `DOD;edipi`.
    Dod(Edipi),
    /// `HDR;icn`.
    Hdr(Icn),
    /// `VLER;icn`.
    Vler(Icn),
}

impl SourcePid {
    pub fn parse(text: &str) -> Result<SourcePid, IdError> {
        match PatientId::parse(text)? {
            PatientId::Source(pid) => Ok(pid),
            PatientId::Icn(_) | PatientId::Jpid(_) => Err(IdError::Pid {
                value: text.to_string(),
            }),
        }
    }
    /// The source this pid is an identifier at.
    pub fn source(&self) -> Source {
        match self {
            SourcePid::Site { site, .. } => Source::Primary(site.clone()),
            SourcePid::Dod(_) => Source::Dod,
            SourcePid::Hdr(_) => Source::Hdr,
            SourcePid::Vler(_) => Source::Vler,
        }
    }
}

impl fmt::Display for SourcePid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourcePid::Site { site, dfn } => write!(f, "{};{dfn}", site.as_str()),
            SourcePid::Dod(edipi) => write!(f, "DOD;{}", edipi.as_str()),
            SourcePid::Hdr(icn) => write!(f, "HDR;{}", icn.as_str()),
            SourcePid::Vler(icn) => write!(f, "VLER;{}", icn.as_str()),
        }
    }
}

/// Any identifier a client may name a patient by (the `pid` parameter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PatientId {
    Source(SourcePid),
    Icn(Icn),
    Jpid(Jpid),
}

impl PatientId {
    /// Parses a pid in any accepted form; the error names the value and lists the forms.
    pub fn parse(text: &str) -> Result<PatientId, IdError> {
        let invalid = || IdError::Pid {
            value: text.to_string(),
        };
        let Some((prefix, local)) = text.split_once(';') else {
            if let Ok(icn) = Icn::parse(text) {
                return Ok(PatientId::Icn(icn));
            }
            return Jpid::parse(text).map(PatientId::Jpid).map_err(|_| invalid());
        };
        let pid = match prefix.to_ascii_uppercase().as_str() {
            "DOD" => SourcePid::Dod(Edipi::parse(local).map_err(|_| invalid())?),
            "HDR" => SourcePid::Hdr(Icn::parse(local).map_err(|_| invalid())?),
            "VLER" => SourcePid::Vler(Icn::parse(local).map_err(|_| invalid())?),
            _ => {
                let site = SiteCode::parse(prefix).map_err(|_| invalid())?;
                // `u64::from_str` alone would also take a leading `+`.
                let dfn = if is_digits(local) { local.parse().ok() } else { None };
                SourcePid::Site {
                    site,
                    dfn: dfn.ok_or_else(invalid)?,
                }
            }
        };
        Ok(PatientId::Source(pid))
    }

    /// The `type` of the identifier in a job's `patientIdentifier`.
    pub fn kind(&self) -> &'static str {
        match self {
            PatientId::Source(_) => "pid",
            PatientId::Icn(_) => "icn",
            PatientId::Jpid(_) => "jpid",
        }
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatientId::Source(pid) => pid.fmt(f),
            PatientId::Icn(icn) => f.write_str(icn.as_str()),
            PatientId::Jpid(jpid) => f.write_str(jpid.as_str()),
        }
    }
}

impl fmt::Display for SiteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for Icn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for Edipi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Display for Jpid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_as_text!(SiteCode);
serde_as_text!(Icn);
serde_as_text!(Edipi);
serde_as_text!(Jpid);
serde_as_text!(SourcePid);
serde_as_text!(PatientId);

/// The secondary-source pids a patient has: HDR and VLER when it has an ICN, DOD when it has an
/// EDIPI.
pub fn secondary_pids(icn: Option<&Icn>, edipi: Option<&Edipi>) -> Vec<SourcePid> {
    let mut pids = Vec::new();
    if let Some(edipi) = edipi {
        pids.push(edipi.dod_pid());
    }
    if let Some(icn) = icn {
        pids.push(icn.hdr_pid());
        pids.push(icn.vler_pid());
    }
    pids
}

/// A random UUID v4 in lower case with dashes (JPIDs and job ids).
pub fn random_uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// 8-4-4-4-12 hex digits, version nibble 4, variant 8, 9, a or b.
fn is_uuid_v4(text: &str) -> bool {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        });
    shape_ok && bytes[14] == b'4' && matches!(bytes[19].to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b')
}

#[cfg(test)]
mod tests;
