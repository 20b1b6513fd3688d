//! Prints the ImageJob CustomResourceDefinition as YAML.
//!
//! `scripts/gen-crd` writes it to `manifests/crd/imagejobs.yaml` and the Helm chart; a test
//! fails when the committed copies drift from the types.

fn main() {
    print!("{}", img_crd::crd_yaml());
}
