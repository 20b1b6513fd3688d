//! The inputs of the scenarios: small jobs (Debian's minimal base and `less`, no kernel, a
//! loop image) build in a few minutes under TCG; only scenarios 1 and 2 make bootable disks.

/// A kickstarter configuration (meego dialect) with one small platform: a loop image of
/// Debian's minimal base and `less`, no kernel. The repositories come from the operator's
/// template (the built-in example's Debian bookworm).
pub(crate) const SMALL_CONFIG: &str = "\
Default:
    Active: True
    Language: en_US.UTF-8
    Keyboard: us
    Timezone: UTC
    RootPass: img
    DefaultUser: img
    DefaultUserPass: img
    PartSize: 700
    FileSystem: ext4
    SaveRepos: False
    Baseline: \"1.0\"
    Architecture: x86_64

SMALL:
    Mic2Options: -f loop --arch=x86_64
    Repos:
        - base
    ExtraPackages:
        - less

Configurations:
    -   Name: IMG end-to-end (small)
        FileName: img-e2e-small
        Platform: SMALL
";

/// A small loop image's kickstart with `post` as its `%post` script.
pub(crate) fn small(post: &str) -> String {
    format!(
        "# -*-mic2-options-*- -f loop --arch=x86_64 -*-mic2-options-*-\n\
         lang en_US.UTF-8\nkeyboard us\ntimezone --utc UTC\n\
         part / --size 700 --fstype=ext4\nrootpw img\n\
         repo --name=base --baseurl=http://deb.debian.org/debian/dists/bookworm/\n\
         %packages\nless\n%end\n\
         %post\n{post}\n%end\n"
    )
}
