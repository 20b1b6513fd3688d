//! Schema adjustments for the generated CRD.

/// Drops a type's own description from its schema, so the documentation of the field that
/// uses it is what `kubectl explain` shows. (kube's handling of `Option<Enum>` fields copies
/// the enum's description over the field's.)
pub(crate) fn without_description(schema: &mut schemars::Schema) {
    schema.remove("description");
}
