//! The 2010 messages, as JSON: what arrives on `kickstarter_queue` and `image_queue`, and what
//! IMG publishes on `link_queue`, `error_queue` and `result_queue`. Field names are exactly the
//! design's; a message that cannot become a job is refused with a reason naming the field.

use std::fmt;

use img_crd::{ImageType, Notify};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The 2010 job id. Clients sent strings or numbers; results carry it back in the same form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LegacyId {
    /// `"id": "nb-42"`.
    Text(String),
    /// `"id": 42`.
    Number(serde_json::Number),
}

/// The longest id accepted (it becomes `spec.legacyId`).
pub const MAX_ID_CHARS: usize = 128;

impl LegacyId {
    /// The id as `spec.legacyId` holds it.
    pub fn as_text(&self) -> String {
        match self {
            LegacyId::Text(s) => s.clone(),
            LegacyId::Number(n) => n.to_string(),
        }
    }

    /// The id in the form it arrived in: `numeric` when it was a JSON number.
    pub fn restore(text: &str, numeric: bool) -> LegacyId {
        match (numeric, text.parse::<serde_json::Number>()) {
            (true, Ok(n)) => LegacyId::Number(n),
            _ => LegacyId::Text(text.to_owned()),
        }
    }

    /// Whether it arrived as a number.
    pub fn is_number(&self) -> bool {
        matches!(self, LegacyId::Number(_))
    }
}

impl fmt::Display for LegacyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

/// `link_queue`: the image is ready (`{'url', 'id'}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkMessage {
    /// Where to download the image.
    pub url: String,
    /// The job's id.
    pub id: LegacyId,
}

/// `error_queue`: the job failed (`{'error', 'id', 'url'}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// What went wrong (the end of the build log says the same).
    pub error: String,
    /// The job's id.
    pub id: LegacyId,
    /// Where to read the log that describes the error.
    pub url: String,
}

/// `result_queue`: the job's log is there (`{'logfile', 'id'}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultMessage {
    /// The log file, relative to the images volume (`<namespace>/<name>/<name>.log`).
    pub logfile: String,
    /// The job's id.
    pub id: LegacyId,
}

/// Which ingress queue a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngressKind {
    /// `kickstarter_queue`: a kickstarter YAML configuration to render, then build.
    Kickstarter,
    /// `image_queue`: a kickstart to build.
    Image,
}

/// A valid ingress message.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingress {
    /// The job's id.
    pub id: LegacyId,
    /// Who to tell (none when the message's `email` was empty).
    pub email: Option<String>,
    /// What to build.
    pub image_type: ImageType,
    /// The kickstarter configuration or the kickstart.
    pub source: IngressSource,
}

/// What an ingress message builds from.
#[derive(Debug, Clone, PartialEq)]
pub enum IngressSource {
    /// `config`: kickstarter YAML (`kickstarter_queue`).
    Config(String),
    /// `ksfile`: a kickstart (`image_queue`).
    Kickstart(String),
}

/// Why a message cannot become a job: it goes to the dead-letter queue with this reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong, naming the field.
    pub reason: String,
    /// The message's id, when it had a usable one (its sender is then told on `error_queue`).
    pub id: Option<LegacyId>,
}

impl Refusal {
    /// A refusal of the message with `id` (if known).
    pub fn new(reason: impl Into<String>, id: Option<LegacyId>) -> Refusal {
        Refusal {
            reason: reason.into(),
            id,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// What a JSON value is, for messages.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The id of `obj`, or why it has none that can be used.
fn read_id(obj: &Map<String, Value>) -> Result<LegacyId, String> {
    match obj.get("id") {
        None => Err("field \"id\" is missing".to_owned()),
        Some(Value::String(s)) => {
            if s.is_empty() || s.chars().count() > MAX_ID_CHARS {
                Err(format!(
                    "field \"id\": must be 1 to {MAX_ID_CHARS} characters, not {}",
                    s.chars().count()
                ))
            } else if s.chars().any(char::is_control) {
                Err("field \"id\": contains a control character".to_owned())
            } else {
                Ok(LegacyId::Text(s.clone()))
            }
        }
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(LegacyId::Number(n.clone())),
        Some(other) => Err(format!(
            "field \"id\": expected a string or an integer, found {}",
            kind_of(other)
        )),
    }
}

/// The string field `name` of `obj`.
fn read_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match obj.get(name) {
        None => Err(format!("field {name:?} is missing")),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "field {name:?}: expected a string, found {}",
            kind_of(other)
        )),
    }
}

/// Reads an ingress message of `kind`. `body` must already be within the size limit.
pub fn parse_ingress(kind: IngressKind, body: &[u8]) -> Result<Ingress, Refusal> {
    let text = std::str::from_utf8(body).map_err(|e| {
        Refusal::new(
            format!(
                "the message is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
            None,
        )
    })?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Refusal::new(format!("the message is not JSON: {e}"), None))?;
    let Value::Object(obj) = value else {
        return Err(Refusal::new(
            format!(
                "the message must be a JSON object (a dictionary), not {}",
                kind_of(&value)
            ),
            None,
        ));
    };
    let id = read_id(&obj).map_err(|reason| Refusal::new(reason, None))?;
    let refuse = |reason: String| Refusal::new(reason, Some(id.clone()));

    let email = read_str(&obj, "email").map_err(refuse)?.trim();
    if !email.is_empty() && !Notify::is_address(email) {
        return Err(refuse(format!(
            "field \"email\": {email:?} is not one plain address (local@domain)"
        )));
    }
    let image_type = read_str(&obj, "imagetype")
        .map_err(refuse)?
        .parse::<ImageType>()
        .map_err(|e| refuse(format!("field \"imagetype\": {e}")))?;
    let (field, source): (&str, fn(String) -> IngressSource) = match kind {
        IngressKind::Kickstarter => ("config", IngressSource::Config),
        IngressKind::Image => ("ksfile", IngressSource::Kickstart),
    };
    let text = read_str(&obj, field).map_err(refuse)?;
    if text.trim().is_empty() {
        return Err(refuse(format!("field {field:?} is empty")));
    }
    Ok(Ingress {
        id: id.clone(),
        email: (!email.is_empty()).then(|| email.to_owned()),
        image_type,
        source: source(text.to_owned()),
    })
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
