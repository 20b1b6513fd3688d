//! The kinds of image IMG builds.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An image format, as the 2010 form offered them (livecd … vmdk) plus `qcow2` and `fs`
/// (a plain root file-system tree), named as mic's `--format`/`create` subcommands name them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[schemars(transform = crate::schema::without_description)]
pub enum ImageType {
    /// A bootable ISO 9660 live image.
    Livecd,
    /// A live image for USB sticks.
    Liveusb,
    /// A single file-system image (loop-mountable).
    Loop,
    /// A partitioned raw disk image.
    Raw,
    /// A NAND flash image.
    Nand,
    /// A NAND image for Moorestown devices.
    Mrstnand,
    /// A VirtualBox disk image.
    Vdi,
    /// A VMware disk image.
    Vmdk,
    /// A QEMU copy-on-write disk image.
    Qcow2,
    /// A root file-system tree, packed as a tarball.
    Fs,
}

impl ImageType {
    /// Every type, in the order the web form lists them.
    pub const ALL: [ImageType; 10] = [
        ImageType::Livecd,
        ImageType::Liveusb,
        ImageType::Loop,
        ImageType::Raw,
        ImageType::Nand,
        ImageType::Mrstnand,
        ImageType::Vdi,
        ImageType::Vmdk,
        ImageType::Qcow2,
        ImageType::Fs,
    ];

    /// The name used in specs, kickstart magic lines and AMQP messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Livecd => "livecd",
            ImageType::Liveusb => "liveusb",
            ImageType::Loop => "loop",
            ImageType::Raw => "raw",
            ImageType::Nand => "nand",
            ImageType::Mrstnand => "mrstnand",
            ImageType::Vdi => "vdi",
            ImageType::Vmdk => "vmdk",
            ImageType::Qcow2 => "qcow2",
            ImageType::Fs => "fs",
        }
    }
}

impl fmt::Display for ImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An image type name that IMG does not build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownImageType(pub String);

impl fmt::Display for UnknownImageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = ImageType::ALL.iter().map(|t| t.as_str()).collect();
        write!(
            f,
            "unknown image type '{}' (known: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownImageType {}

impl FromStr for ImageType {
    type Err = UnknownImageType;

    /// Parses a type name; mic's older alias `qcow` means `qcow2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "qcow" {
            return Ok(ImageType::Qcow2);
        }
        ImageType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownImageType(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_str() {
        for t in ImageType::ALL {
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{t}\""));
            assert_eq!(t.as_str().parse::<ImageType>().unwrap(), t);
        }
        assert_eq!("qcow".parse::<ImageType>().unwrap(), ImageType::Qcow2);
        let err = "iso".parse::<ImageType>().unwrap_err().to_string();
        assert!(err.contains("'iso'") && err.contains("livecd"), "{err}");
    }
}
