use super::super::{ResponseFormat, negotiate, wants_table};

const KUBECTL: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

#[test]
fn negotiation() {
    let cases: &[(Option<&str>, Option<ResponseFormat>)] = &[
        (None, Some(ResponseFormat::Json)),
        (Some(""), Some(ResponseFormat::Json)),
        (Some(KUBECTL), Some(ResponseFormat::Table)),
        (Some("application/json"), Some(ResponseFormat::Json)),
        (Some("*/*"), Some(ResponseFormat::Json)),
        (Some("application/*"), Some(ResponseFormat::Json)),
        (Some("application/json, */*"), Some(ResponseFormat::Json)),
        (
            Some("application/json;as=Table;v=v1beta1;g=meta.k8s.io"),
            Some(ResponseFormat::Table),
        ),
        (
            Some("application/json; as=Table; g=meta.k8s.io; v=v1"),
            Some(ResponseFormat::Table),
        ),
        // Protobuf is skipped in favour of the next servable clause.
        (
            Some(
                "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            ),
            Some(ResponseFormat::Table),
        ),
        (
            Some("application/vnd.kubernetes.protobuf,application/json"),
            Some(ResponseFormat::Json),
        ),
        (Some("application/vnd.kubernetes.protobuf"), None),
        (Some("application/yaml"), None),
        (Some("text/html"), None),
        // Unknown table versions, groups or kinds are not servable.
        (Some("application/json;as=Table;v=v2;g=meta.k8s.io"), None),
        (Some("application/json;as=Table;v=v1;g=example.com"), None),
        (Some("application/json;as=Table"), None),
        (
            Some("application/json;as=Other;v=v1;g=meta.k8s.io,application/json"),
            Some(ResponseFormat::Json),
        ),
        // q values reorder clauses.
        (
            Some("application/json;as=Table;v=v1;g=meta.k8s.io;q=0.5,application/json"),
            Some(ResponseFormat::Json),
        ),
        (
            Some("application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io"),
            Some(ResponseFormat::Table),
        ),
        // Wildcards come after specific types of the same q.
        (
            Some("*/*,application/json;as=Table;v=v1;g=meta.k8s.io"),
            Some(ResponseFormat::Table),
        ),
        (
            Some("application/json;as=Table;v=v1;g=meta.k8s.io;stream=watch"),
            Some(ResponseFormat::Table),
        ),
        (Some("application/json;stream=other"), None),
        (
            Some("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            Some(ResponseFormat::PartialObjectMetadataList),
        ),
        (
            Some("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"),
            Some(ResponseFormat::PartialObjectMetadata),
        ),
    ];
    for (header, expected) in cases {
        assert_eq!(negotiate(*header), *expected, "{header:?}");
    }
    assert!(wants_table(KUBECTL));
    assert!(!wants_table("application/json"));
    assert!(!wants_table(
        "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"
    ));
}
