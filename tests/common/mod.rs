//! Shared helpers for the simulator scenarios.
#![allow(dead_code)]

use pfsync::engine::{Config, IpFamily};
use pfsync::sim::{Cluster, Segment};
use pfsync::time::Duration;
use pfsync::wire::{IfName, MsgVersion, Peer, StateId, StateKey, StateRecord};

pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 28;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
/// `PFTM_TCP_ESTABLISHED`.
pub const TM_TCP_ESTABLISHED: u8 = 2;
pub const TCPS_ESTABLISHED: u8 = 4;

pub fn hostid(n: u8) -> [u8; 4] {
    [0, 0, 0, n + 1]
}

/// Node `n` of a cluster, configured up with a sync interface.
pub fn node_config(n: u8) -> Config {
    let mut c = Config::new(hostid(n));
    c.syncdev = IfName::new("em1");
    c.up = true;
    c.peer_family = IpFamily::V4;
    c
}

/// Node `n` speaking OpenBSD's dialect (docs/openbsd.md), up with a sync interface.
pub fn openbsd_node_config(n: u8) -> Config {
    let mut c = Config::openbsd(hostid(n));
    c.syncdev = IfName::new("em1");
    c.up = true;
    c.peer_family = IpFamily::V4;
    c
}

/// A started two-node cluster (each has sent its bulk request), settled.
pub fn pair(seed: u64) -> Cluster {
    pair_with(seed, node_config(0), node_config(1))
}

pub fn pair_with(seed: u64, a: Config, b: Config) -> Cluster {
    let mut c = Cluster::new(seed, &[a, b]).expect("cluster");
    c.start(0).expect("start a");
    c.start(1).expect("start b");
    c.run_for(Duration::from_secs(1));
    c
}

pub fn state_id(creator: u8, n: u64) -> StateId {
    StateId {
        id: n.to_be_bytes(),
        creatorid: hostid(creator),
    }
}

/// An established TCP state over IPv4, created by node `creator`.
pub fn tcp_state(creator: u8, n: u64) -> StateRecord {
    let mut r = StateRecord {
        id: state_id(creator, n),
        ifname: IfName::new("em0").expect("ifname"),
        wire_af: AF_INET,
        stack_af: AF_INET,
        wire_proto: TCP,
        stack_proto: TCP,
        direction: 2,
        timeout: TM_TCP_ESTABLISHED,
        ..StateRecord::default()
    };
    let mut key = StateKey::default();
    key.addr[0][..4].copy_from_slice(&[10, 0, (n >> 8) as u8, n as u8]);
    key.addr[1][..4].copy_from_slice(&[192, 0, 2, 1]);
    key.port[0] = ((n % 50000) as u16 + 1024).to_be_bytes();
    key.port[1] = 443u16.to_be_bytes();
    r.key = [key, key];
    let isn_c = (n as u32).wrapping_mul(2_654_435_761);
    let isn_s = isn_c ^ 0x5555_aaaa;
    r.src = Peer {
        seqlo: isn_c,
        seqhi: isn_c.wrapping_add(65535 << 7),
        max_win: 65535,
        state: TCPS_ESTABLISHED,
        wscale: 0x80 | 7,
        ..Peer::default()
    };
    r.dst = Peer {
        seqlo: isn_s,
        seqhi: isn_s.wrapping_add(65535 << 7),
        max_win: 65535,
        state: TCPS_ESTABLISHED,
        wscale: 0x80 | 7,
        ..Peer::default()
    };
    r
}

pub fn with_version(mut c: Config, v: MsgVersion) -> Config {
    c.version = v;
    c
}

/// Node `node` forwards 1000 bytes on state `id`, from where its table has
/// the state's windows now, as a packet through pf would.
pub fn send_forward_data(c: &mut Cluster, node: usize, id: &StateId) {
    let s = c.nodes[node].table.get(id).unwrap().record;
    let seg = Segment {
        from_src: true,
        seq: s.src.seqlo,
        len: 1000,
        ack: s.dst.seqlo,
        win: 65535,
    };
    let now = c.now;
    c.with_node(node, |n| n.tcp_packet(now, id, &seg))
        .unwrap()
        .unwrap();
}
