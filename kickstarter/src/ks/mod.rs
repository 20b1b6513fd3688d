//! Reader and validator for kickstart files in the dialect of MeeGo's mic2
//! and Tizen/Mer/Sailfish's mic.
//!
//! IMG reads every kickstart with [`parse`] before an image build is
//! queued: the result has the structure (repos, partitions, packages,
//! scripts, the magic first line) and every problem with its file and line.
//! Parsing never panics and stays bounded on hostile input (see [`Limits`]).
//!
//! ```
//! use kickstarter::ks::{parse, Limits, NoIncludes};
//!
//! let text = b"# -*-mic2-options-*- -f raw --arch=armv7l -*-mic2-options-*-\n\
//!              repo --name=oss --baseurl=http://example.org/@ARCH@/ --save\n\
//!              part / --size 500 --ondisk sda --fstype=ext4\n\
//!              %packages\n@Core\nvim\n%end\n";
//! let parsed = parse(text, "demo.ks", &NoIncludes, &Limits::default());
//! assert!(!parsed.has_errors());
//! let ks = &parsed.kickstart;
//! assert_eq!(ks.image_type(), Some("raw"));
//! assert_eq!(ks.arch(), Some("armv7l"));
//! assert_eq!(ks.repos[0].baseurl.as_deref(), Some("http://example.org/@ARCH@/"));
//! assert_eq!(ks.packages.packages, ["vim"]);
//! ```
//!
//! The dialect is pykickstart's (which mic runs) plus mic's extensions.
//! Where the two, or old and new pykickstart, disagree, the choices are
//! documented on the module that makes them and collected in `NOTES.md`.

mod command_table;
mod commands;
mod diagnostic;
mod include;
mod lexer;
mod limits;
mod magic;
mod model;
mod options;
mod packages;
mod parser;
mod sections;
mod summary;
mod writer;

pub use diagnostic::{Diagnostic, Severity};
pub use include::{
    DirIncludes, IncludeError, IncludeResolver, IncludedFile, MemoryIncludes, NoIncludes,
};
pub use limits::Limits;
pub use magic::{IMAGE_TYPES, MagicKind, MagicLine};
pub use model::{
    Command, Group, GroupMode, Kickstart, Packages, Partition, Repo, Script, ScriptKind,
    SectionOption,
};
pub use parser::{Parsed, parse};
pub use summary::{ScriptSummary, Summary};
