use super::*;
use crate::admission::builtin_template;
use crate::{ImageJobSpec, Source, TemplateSource};

const KS: &str = "# -*-mic2-options-*- -f livecd --arch=i686 -*-mic2-options-*-\n\
                  lang en_US.UTF-8\n\
                  part / --size 1900 --ondisk sda --fstype=ext3\n\
                  %packages\n@MeeGo Core\n%end\n";

fn kickstart(text: &[u8]) -> SourceText {
    SourceText::Kickstart {
        bytes: text.to_vec(),
        file: "spec.source.kickstart".into(),
        in_spec: true,
    }
}

fn template_spec(platform: &str, overlay: Option<&str>) -> ImageJobSpec {
    ImageJobSpec {
        source: Source {
            template: Some(TemplateSource {
                platform: platform.into(),
                overlay: overlay.map(Into::into),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn an_inline_kickstart_takes_its_type_from_the_magic_line() {
    let a = accept(&ImageJobSpec::default(), kickstart(KS.as_bytes()), &[]).unwrap();
    assert_eq!(a.image_type, ImageType::Livecd);
    assert_eq!(a.kickstart, KS);
    assert_eq!(a.record.bytes, KS.len() as u64);
    assert_eq!(a.record.sha256.len(), 64);
    assert_eq!(a.record.text, None, "the spec already holds it");
    assert!(a.template.is_none());
}

#[test]
fn the_spec_type_wins_over_the_magic_line() {
    let spec = ImageJobSpec {
        image_type: Some(ImageType::Vmdk),
        ..Default::default()
    };
    assert_eq!(
        accept(&spec, kickstart(KS.as_bytes()), &[])
            .unwrap()
            .image_type,
        ImageType::Vmdk
    );
}

#[test]
fn without_any_type_the_job_is_refused() {
    let r = accept(
        &ImageJobSpec::default(),
        kickstart(b"%packages\nvim\n%end\n"),
        &[],
    )
    .unwrap_err();
    assert_eq!(r.reason, reasons::NO_IMAGE_TYPE);
    assert!(
        r.message.contains("spec.imageType is not set"),
        "{}",
        r.message
    );
}

#[test]
fn kickstart_errors_name_file_and_line() {
    let broken = b"lang en_US.UTF-8\npart / --size=abc\n%packages\nvim\n";
    let r = accept(&ImageJobSpec::default(), kickstart(broken), &[]).unwrap_err();
    assert_eq!(r.reason, reasons::INVALID_KICKSTART);
    assert!(
        r.message.starts_with("spec.source.kickstart:2: error:"),
        "{}",
        r.message
    );
    let r = accept(&ImageJobSpec::default(), kickstart(b"lang \xff\n"), &[]).unwrap_err();
    assert_eq!(r.reason, reasons::INVALID_KICKSTART);
    assert!(
        r.message
            .contains("not UTF-8 text (invalid byte at offset 5)"),
        "{}",
        r.message
    );
}

#[test]
fn the_builtin_template_renders_with_the_overlay() {
    let spec = template_spec("MINIMAL", Some("gcc, @Development Tools ,-vim-minimal"));
    let a = accept(&spec, builtin_template(), &["internal".into()]).unwrap();
    assert_eq!(
        a.image_type,
        ImageType::Raw,
        "from the template's Mic2Options"
    );
    assert!(a.kickstart.contains("\ngcc\n") && a.kickstart.contains("\n-vim-minimal\n"));
    assert!(a.kickstart.contains("@Development Tools\n"));
    let input = a.template.unwrap();
    assert_eq!(input.configuration, "img-example-minimal");
    assert_eq!(input.dialect, "meego-0.12");
    assert_eq!(input.overlay_repos, ["internal"]);
    assert_eq!(
        a.record.configuration.as_deref(),
        Some("img-example-minimal")
    );
    assert_eq!(a.record.text.as_deref(), Some(a.kickstart.as_str()));
}

#[test]
fn template_problems_are_named() {
    let r = accept(&template_spec("NETBOOK", None), builtin_template(), &[]).unwrap_err();
    assert_eq!(r.reason, reasons::UNKNOWN_PLATFORM);
    assert!(r.message.contains("MINIMAL, DEVELOPER"), "{}", r.message);

    let hostile = template_spec("MINIMAL", Some("gcc,$(reboot),vim"));
    let r = accept(&hostile, builtin_template(), &[]).unwrap_err();
    assert_eq!(r.reason, reasons::INVALID_OVERLAY);
    assert!(
        r.message
            .starts_with("spec.source.template.overlay: overlay item 2 \"$(reboot)\""),
        "{}",
        r.message
    );

    let mut bad_dialect = template_spec("MINIMAL", None);
    if let Some(t) = bad_dialect.source.template.as_mut() {
        t.dialect = Some("meego-9".into());
    }
    let r = accept(&bad_dialect, builtin_template(), &[]).unwrap_err();
    assert_eq!(r.reason, reasons::INVALID_SPEC);

    let mut missing = builtin_template();
    if let SourceText::Template { repositories, .. } = &mut missing {
        repositories.clear();
    }
    let r = accept(&template_spec("MINIMAL", None), missing, &[]).unwrap_err();
    assert_eq!(r.reason, reasons::INVALID_TEMPLATE);
    assert!(
        r.message.ends_with("there is no repos.yaml"),
        "{}",
        r.message
    );

    let mut broken = builtin_template();
    if let SourceText::Template { configurations, .. } = &mut broken {
        configurations.push_str("\nMINIMAL: [unclosed\n");
    }
    let r = accept(&template_spec("MINIMAL", None), broken, &[]).unwrap_err();
    assert_eq!(r.reason, reasons::INVALID_TEMPLATE);
    assert!(r.message.contains("configurations.yaml:"), "{}", r.message);
}

#[test]
fn a_named_configuration_must_exist() {
    let mut spec = template_spec("MINIMAL", None);
    if let Some(t) = spec.source.template.as_mut() {
        t.configuration = Some("nope".into());
    }
    let r = accept(&spec, builtin_template(), &[]).unwrap_err();
    assert!(
        r.message.contains("no configuration named \"nope\" (available: img-example-minimal, img-example-developer)"),
        "{}",
        r.message
    );
    if let Some(t) = spec.source.template.as_mut() {
        t.configuration = Some("img-example-developer".into());
    }
    let a = accept(&spec, builtin_template(), &[]).unwrap();
    assert_eq!(a.image_type, ImageType::Qcow2);
}
