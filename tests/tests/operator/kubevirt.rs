//! The KubeVirt runner's wiring: with KubeVirt's VirtualMachineInstance API present (its CRD,
//! as far as the loopback server can serve it), a kubevirt job gets its VM, SSH Service, key
//! and driver Pod, and the VM goes when the job ends; without it, the job fails saying so.

use img_crd::conditions::reasons;
use img_crd::{Phase, RunnerKind};
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, DynamicObject};

use crate::env::{Env, spec};

#[tokio::test]
async fn a_kubevirt_job_gets_its_vm_service_key_and_driver_and_the_vm_goes_when_it_ends() {
    let env = Env::start().await;
    env.install_kubevirt_api().await;
    let _operator = env.operator(&[]).await;
    let gate = env.path("go");
    let mut s = spec(&format!("succeed wait-for={}", gate.display()));
    s.runner.kind = RunnerKind::Kubevirt;
    s.runner.cpus = Some(3);
    let job = env.create("default", "vm", s).await;
    env.wait_phase("default", "vm", Phase::Running).await;

    let vmis: Api<DynamicObject> =
        Api::namespaced_with(env.client.clone(), "default", &crate::env::vmi_resource());
    let vmi = vmis.get("vm-vm").await.unwrap();
    assert_eq!(vmi.data["spec"]["domain"]["cpu"]["cores"], 3);
    let owner = &vmi.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(owner.uid, job.metadata.uid.clone().unwrap());
    let services: Api<Service> = Api::namespaced(env.client.clone(), "default");
    let svc = services.get("vm-ssh").await.unwrap();
    assert_eq!(svc.spec.unwrap().ports.unwrap()[0].port, 22);
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "default");
    let data = secrets.get("vm-job").await.unwrap().data.unwrap();
    assert!(data.contains_key("job.json") && data.contains_key("id_ed25519"));

    std::fs::write(&gate, "").unwrap();
    env.wait_phase("default", "vm", Phase::Succeeded).await;
    assert!(
        env.records()
            .iter()
            .any(|l| l == "drive vm-ssh.default.svc"),
        "{:?}",
        env.records()
    );
    crate::support::eventually(30, || {
        let vmis = vmis.clone();
        async move { vmis.get_opt("vm-vm").await.unwrap().is_none().then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn a_kubevirt_job_without_kubevirt_fails_saying_so() {
    let env = Env::start().await;
    let _operator = env.operator(&[]).await;
    let mut s = spec("succeed");
    s.runner.kind = RunnerKind::Kubevirt;
    env.create("default", "novm", s).await;
    let job = env.wait_phase("default", "novm", Phase::Failed).await;
    let status = job.status.unwrap();
    assert_eq!(
        status.reason.as_deref(),
        Some(reasons::KUBEVIRT_UNAVAILABLE)
    );
    assert!(
        status
            .message
            .unwrap()
            .contains("virtualmachineinstances.kubevirt.io")
    );
}
