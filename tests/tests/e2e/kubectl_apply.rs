//! Scenario 2: an operator's user applies the example manifest (a kickstart in a ConfigMap,
//! type vmdk) with `kubectl apply -f` and waits with `kubectl wait --for=condition=Succeeded`.

use anyhow::{Context as _, bail, ensure};
use img_crd::Phase;
use img_tests::services::repo_root;

use crate::jobs::{BUILD_WAIT, expect_phase, row};
use crate::site::{Site, run_kubectl};
use crate::timing::Row;

/// The example's job.
const NAME: &str = "netbook-vmdk";

/// Runs the scenario (the `rep`th time: a run after the first deletes the job first, as a
/// user building it again would).
pub(crate) async fn run(site: &Site, rep: u32) -> anyhow::Result<Row> {
    let manifest = repo_root().join("manifests/examples/imagejob-configmap.yaml");
    if rep > 1 {
        run_kubectl(
            &site.kubectl,
            &[
                "delete",
                "-f",
                &manifest.display().to_string(),
                "--timeout=300s",
            ],
        )
        .await?;
    }
    let applied = run_kubectl(
        &site.kubectl,
        &["apply", "-f", &manifest.display().to_string()],
    )
    .await?;
    ensure!(
        applied.contains(&format!("imagejob.img.meego.com/{NAME} created")),
        "{applied}"
    );
    eprintln!("e2e: scenario 2: kubectl apply: {}", applied.trim());
    let wait = site
        .kubectl
        .command(&[
            "wait",
            "--for=condition=Succeeded",
            &format!("imagejob/{NAME}"),
            &format!("--timeout={BUILD_WAIT}s"),
        ])
        .output()
        .await?;
    let job = site.jobs().get(NAME).await?;
    if !wait.status.success() {
        expect_phase(site, &job, Phase::Succeeded)?;
        bail!(
            "kubectl wait failed although the job Succeeded: {}",
            String::from_utf8_lossy(&wait.stderr)
        );
    }
    let said = String::from_utf8_lossy(&wait.stdout);
    ensure!(
        said.trim() == format!("imagejob.img.meego.com/{NAME} condition met"),
        "kubectl wait said {said:?}"
    );
    expect_phase(site, &job, Phase::Succeeded)?;
    let status = job.status.clone().unwrap_or_default();
    let vmdk = status
        .artifacts
        .iter()
        .find(|a| a.name.ends_with(".vmdk"))
        .with_context(|| format!("no .vmdk among {:?}", status.artifacts))?;
    // A VMware sparse extent starts with the magic "KDMV".
    let path = site
        .images()
        .join(crate::site::NS)
        .join(NAME)
        .join(&vmdk.name);
    let mut head = [0u8; 4];
    std::io::Read::read_exact(&mut std::fs::File::open(&path)?, &mut head)?;
    ensure!(&head == b"KDMV", "{} is not a vmdk", path.display());
    row(site, "2 kubectl apply (vmdk)", NAME).await
}
