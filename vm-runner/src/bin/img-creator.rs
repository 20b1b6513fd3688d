//! `img-creator` (installed as `mic` and `mic-image-creator` too): builds OS images from a
//! kickstart with mic's or mic2's command line. See `img_vm_runner::creator`.

fn main() -> std::process::ExitCode {
    img_vm_runner::creator::main()
}
