//! A deterministic simulator for the engine (feature `sim`, std only; never
//! part of the kernel build): N nodes, each an [`Engine`](crate::engine::Engine)
//! over a model pf state table ([`ModelTable`]), joined by a network with
//! configurable delay, jitter, loss, duplication, partitions and bandwidth,
//! driven by a virtual clock and an in-crate RNG. A seed reproduces a run.

pub mod flat;
pub mod model;
pub mod net;
pub mod node;
pub mod rng;

pub use flat::{established_tcp, FlatHost, FlatState};
pub use model::{ModelState, ModelTable, Segment, WindowReject};
pub use net::{Cluster, LinkConditions, NetStats};
pub use node::{HookDelivery, Node, NodeHost, NodeIo};
pub use rng::Rng;
