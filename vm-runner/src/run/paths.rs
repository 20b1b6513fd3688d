//! Where a run reads and writes, checked: the job's output directory must stay inside the
//! images directory, and names used in the guest must be plain.

use std::path::{Component, Path, PathBuf};

/// Where a run happens: its directories (arguments of `vm-runner run`), and for
/// `vm-runner drive` the VM someone else started.
#[derive(Debug, Clone)]
pub struct RunPaths {
    /// The images volume (`--images`).
    pub images: PathBuf,
    /// The base-disk volume (`--base`); unused when driving a remote VM.
    pub base: PathBuf,
    /// Where to write the result for Kubernetes (`--termination-log`), if anywhere.
    pub termination_log: Option<PathBuf>,
    /// A running VM to drive instead of booting one (`vm-runner drive`, KubeVirt).
    pub remote: Option<RemoteVm>,
}

/// A VM the runner did not start (KubeVirt's): reached over SSH, with the images volume
/// mounted in it at the same path as `--images` here, so the creator writes straight into
/// the job's output directory.
#[derive(Debug, Clone)]
pub struct RemoteVm {
    /// Host name or address of its sshd.
    pub host: String,
    /// Its sshd's port (22 for KubeVirt's Service).
    pub port: u16,
    /// The private key its root account accepts (OpenSSH format).
    pub key_file: PathBuf,
}

/// `images/relative`, refusing anything that leaves `images`.
pub fn output_dir(images: &Path, relative: &str) -> Result<PathBuf, String> {
    let rel = Path::new(relative);
    let escapes = rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes || relative.contains('\0') {
        return Err(format!(
            "output directory {relative:?} must be a relative path inside the images directory"
        ));
    }
    Ok(images.join(rel))
}

/// Whether `name` is safe as a file name in the guest and the output directory (the image
/// name derives from it).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_dirs_stay_inside_the_images_directory() {
        let images = Path::new("/images");
        assert_eq!(
            output_dir(images, "team/nb").unwrap(),
            PathBuf::from("/images/team/nb")
        );
        assert_eq!(output_dir(images, ".").unwrap(), PathBuf::from("/images/."));
        for bad in ["../etc", "/etc", "team/../../x", "a\0b"] {
            assert!(output_dir(images, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_names() {
        assert!(is_plain_name("netbook-2010_1.0"));
        for bad in ["", "-rf", ".hidden", "a b", "a/b", "$(x)"] {
            assert!(!is_plain_name(bad), "{bad}");
        }
    }
}
