//! Checks on the spec itself, before any source is read: the things a real API server's CEL
//! rules also refuse (so clusters without them, and the loopback test server, behave the
//! same), and the fields the runner turns into paths.

use img_crd::conditions::reasons;
use img_crd::labels::MAX_JOB_NAME;
use img_crd::{ImageJob, ImageJobSpec, Notify};

use super::Rejection;

/// Checks `job`'s name and spec.
pub fn check_spec(job: &ImageJob) -> Result<(), Rejection> {
    let name = job.metadata.name.as_deref().unwrap_or_default();
    if name.len() > MAX_JOB_NAME {
        return Err(invalid(format!(
            "metadata.name: {name:?} is {} characters long; ImageJob names are at most {MAX_JOB_NAME}",
            name.len()
        )));
    }
    let spec = &job.spec;
    check_source(spec)?;
    for (i, address) in spec.notify.email.iter().enumerate() {
        if !Notify::is_address(address) {
            return Err(invalid(format!(
                "spec.notify.email[{i}]: {address:?} is not an e-mail address"
            )));
        }
    }
    if let Some(disk) = &spec.runner.base_disk
        && !is_plain_file_name(disk)
    {
        return Err(invalid(format!(
            "spec.runner.baseDisk: {disk:?} must be a file name on the base-disk volume (no '/', not '.' or '..')"
        )));
    }
    if let Some(claim) = &spec.output.claim_name
        && !is_dns_subdomain(claim)
    {
        return Err(invalid(format!(
            "spec.output.claimName: {claim:?} is not a valid PersistentVolumeClaim name"
        )));
    }
    if let Some(id) = &spec.legacy_id
        && (id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_control()))
    {
        return Err(invalid(format!(
            "spec.legacyId: {id:?} must be 1 to 128 characters without control characters"
        )));
    }
    Ok(())
}

fn check_source(spec: &ImageJobSpec) -> Result<(), Rejection> {
    let s = &spec.source;
    let given = [
        s.kickstart.is_some(),
        s.kickstart_from.is_some(),
        s.template.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(invalid(
            "spec.source: exactly one of kickstart, kickstartFrom and template must be set",
        ));
    }
    if let Some(from) = &s.kickstart_from {
        let refs = [&from.config_map_key_ref, &from.secret_key_ref];
        let set: Vec<_> = refs.iter().filter_map(|r| r.as_ref()).collect();
        let [key_ref] = set.as_slice() else {
            return Err(invalid(
                "spec.source.kickstartFrom: exactly one of configMapKeyRef and secretKeyRef must be set",
            ));
        };
        if !is_dns_subdomain(&key_ref.name) || !is_config_key(&key_ref.key) {
            return Err(invalid(format!(
                "spec.source.kickstartFrom: {:?}/{:?} is not a valid object name and key",
                key_ref.name, key_ref.key
            )));
        }
    }
    if let Some(t) = &s.template {
        if let Some(cm) = &t.config_map
            && !is_dns_subdomain(cm)
        {
            return Err(invalid(format!(
                "spec.source.template.configMap: {cm:?} is not a valid ConfigMap name"
            )));
        }
        if t.platform.trim().is_empty() {
            return Err(invalid("spec.source.template.platform: must not be empty"));
        }
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> Rejection {
    Rejection::new(reasons::INVALID_SPEC, message)
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 255
        && !name.contains(['/', '\\', '\0'])
}

/// An RFC 1123 subdomain, as Kubernetes names most objects.
pub(crate) fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253
        && !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A ConfigMap or Secret key.
fn is_config_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_crd::{KeyRef, KickstartFrom, Source, TemplateSource};

    fn job(name: &str, spec: ImageJobSpec) -> ImageJob {
        ImageJob::new(name, spec)
    }

    fn inline() -> ImageJobSpec {
        ImageJobSpec {
            source: Source {
                kickstart: Some("%packages\n%end\n".into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn message(job: &ImageJob) -> String {
        check_spec(job).unwrap_err().message
    }

    #[test]
    fn a_plain_job_passes() {
        assert_eq!(check_spec(&job("ok", inline())), Ok(()));
    }

    #[test]
    fn each_problem_names_its_field() {
        assert!(message(&job(&"x".repeat(53), inline())).starts_with("metadata.name:"));
        let mut two = inline();
        two.source.template = Some(TemplateSource {
            platform: "P".into(),
            ..Default::default()
        });
        assert!(message(&job("two", two)).starts_with("spec.source: exactly one"));
        let mut none = inline();
        none.source.kickstart = None;
        assert!(message(&job("none", none)).starts_with("spec.source:"));
        let mut refs = inline();
        refs.source = Source {
            kickstart_from: Some(KickstartFrom {
                config_map_key_ref: Some(KeyRef {
                    name: "../etc".into(),
                    key: "ks".into(),
                }),
                secret_key_ref: None,
            }),
            ..Default::default()
        };
        assert!(message(&job("refs", refs)).starts_with("spec.source.kickstartFrom:"));
        let mut mail = inline();
        mail.notify.email = vec!["a@example.org".into(), "not an address".into()];
        assert!(message(&job("mail", mail)).starts_with("spec.notify.email[1]:"));
        let mut disk = inline();
        disk.runner.base_disk = Some("../../etc/shadow".into());
        assert!(message(&job("disk", disk)).starts_with("spec.runner.baseDisk:"));
        let mut claim = inline();
        claim.output.claim_name = Some("Images/x".into());
        assert!(message(&job("claim", claim)).starts_with("spec.output.claimName:"));
        let mut id = inline();
        id.legacy_id = Some("a\nb".into());
        assert!(message(&job("id", id)).starts_with("spec.legacyId:"));
    }

    #[test]
    fn names_and_addresses() {
        assert!(is_dns_subdomain("img-images.v1"));
        assert!(!is_dns_subdomain("-x") && !is_dns_subdomain("a..b") && !is_dns_subdomain(""));
        assert!(Notify::is_address("builder@example.org"));
        assert!(!Notify::is_address("builder@localhost") && !Notify::is_address("@x.org"));
        assert!(!Notify::is_address("a@x.org, b@y.org"));
    }
}
