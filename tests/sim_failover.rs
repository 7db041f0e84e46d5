//! Failover and convergence on the simulator.
//!
//! Failover: many TCP flows go through A, which syncs to B; A dies at a random
//! time; every flow established at least 1 s before must pass B's window check
//! with its next packet in either direction. Convergence: after a period of
//! 20% frame loss, how long until B's table matches A's again.

mod common;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use common::*;
use pfsync::sim::{Cluster, HookDelivery, Rng, Segment};
use pfsync::time::{Duration, Instant};
use pfsync::wire::StateId;

/// One simulated connection, as its endpoints see it.
struct Flow {
    id: StateId,
    client_next: u32,
    server_next: u32,
    /// Mean gap between exchanges.
    gap: Duration,
    established_at: Instant,
}

impl Flow {
    fn client_segment(&self, len: u32) -> Segment {
        Segment {
            from_src: true,
            seq: self.client_next,
            len,
            ack: self.server_next,
            win: 65535,
        }
    }
    fn server_segment(&self, len: u32) -> Segment {
        Segment {
            from_src: false,
            seq: self.server_next,
            len,
            ack: self.client_next,
            win: 65535,
        }
    }
}

/// How the simulated connections behave.
#[derive(Clone, Copy)]
struct FlowMix {
    /// Window scaling negotiated (shift 7); without it windows are 64 KB.
    scaled: bool,
    /// Mean gap between exchanges is uniform in `min_gap_ms..min_gap_ms+spread_ms`.
    min_gap_ms: u64,
    spread_ms: u64,
}

impl FlowMix {
    /// The state of connection `n`, its windows as this mix negotiates them.
    fn state(self, n: u64) -> pfsync::wire::StateRecord {
        let mut rec = tcp_state(0, n);
        if !self.scaled {
            for p in [&mut rec.src, &mut rec.dst] {
                p.wscale = 0;
                p.seqhi = p.seqlo.wrapping_add(65535);
            }
        }
        rec
    }
}

const TYPICAL: FlowMix = FlowMix {
    scaled: true,
    min_gap_ms: 50,
    spread_ms: 950,
};

/// Runs `flows` connections through node 0 for a random time, then kills it.
/// Returns (eligible flows, flows B would pass, frames A sent).
fn failover_run(seed: u64, flows: u64) -> (usize, usize, u64) {
    failover_run_mix(seed, flows, TYPICAL)
}

/// Hook events reach the engine as the kernel shim delivers them: parked per
/// state and handed over by a task, updates folded into a count.
fn shim_like(c: &mut Cluster) {
    for n in c.nodes.iter_mut() {
        n.hook_delivery = HookDelivery::Inbox {
            latency: Duration::from_millis(1),
        };
    }
}

fn failover_run_mix(seed: u64, flows: u64, mix: FlowMix) -> (usize, usize, u64) {
    failover_run_on(pair(seed), seed, flows, mix)
}

/// The failover scenario on a started pair `c`.
fn failover_run_on(mut c: Cluster, seed: u64, flows: u64, mix: FlowMix) -> (usize, usize, u64) {
    shim_like(&mut c);
    let mut rng = Rng::new(seed ^ 0xfa11);
    let start = c.now;
    let death = start + Duration::from_millis(3000 + rng.below(3000));
    let mut table: Vec<Flow> = Vec::new();
    let mut agenda: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    for n in 0..flows {
        let at = start + Duration::from_millis(rng.below(4000));
        let rec = mix.state(n + 1);
        table.push(Flow {
            id: rec.id,
            client_next: rec.src.seqlo,
            server_next: rec.dst.seqlo,
            gap: Duration::from_millis(mix.min_gap_ms + rng.below(mix.spread_ms)),
            established_at: at,
        });
        agenda.push(Reverse((at, n as usize)));
    }
    let mut created = vec![false; table.len()];
    while let Some(Reverse((at, i))) = agenda.pop() {
        if at >= death {
            break;
        }
        c.run_until(at);
        let now = c.now;
        let Some(f) = table.get_mut(i) else { continue };
        if !created[i] {
            created[i] = true;
            c.with_node(0, |a| a.create_state(now, mix.state(i as u64 + 1)));
        } else {
            // One exchange: client data, server acknowledges (sometimes with data).
            let len = 1 + rng.below(1460) as u32;
            let seg = f.client_segment(len);
            let ok = c.with_node(0, |a| a.tcp_packet(now, &f.id, &seg)).unwrap();
            assert!(ok.is_ok(), "A's own tracking accepts the flow: {ok:?}");
            f.client_next = f.client_next.wrapping_add(len);
            let reply = if rng.chance(300_000) {
                rng.below(1460) as u32
            } else {
                0
            };
            let seg = f.server_segment(reply);
            let ok = c.with_node(0, |a| a.tcp_packet(now, &f.id, &seg)).unwrap();
            assert!(ok.is_ok());
            f.server_next = f.server_next.wrapping_add(reply);
        }
        let next = now + Duration::from_nanos(f.gap.as_nanos() / 2 + rng.below(f.gap.as_nanos()));
        agenda.push(Reverse((next, i)));
    }
    c.run_until(death);
    c.kill(0);
    // Frames already on the wire still arrive.
    c.run_for(Duration::from_millis(50));
    let b = &c.nodes[1].table;
    let cutoff = Instant::from_nanos(death.as_nanos().saturating_sub(1_000_000_000));
    let mut eligible = 0;
    let mut pass = 0;
    for (i, f) in table.iter().enumerate() {
        if !created[i] || f.established_at > cutoff {
            continue;
        }
        eligible += 1;
        let client = b.tcp_check(&f.id, &f.client_segment(1460));
        let server = b.tcp_check(&f.id, &f.server_segment(0));
        if client.is_ok() && server.is_ok() {
            pass += 1;
        }
    }
    (eligible, pass, c.nodes[0].io.frames_sent)
}

/// (eligible flows, flows B would pass) summed over `seeds`.
fn failover_totals(seeds: std::ops::Range<u64>, flows: u64, mix: FlowMix) -> (usize, usize) {
    seeds.fold((0, 0), |(eligible, pass), seed| {
        let (e, p, _) = failover_run_mix(seed, flows, mix);
        (eligible + e, pass + p)
    })
}

#[test]
fn openbsd_failover_keeps_every_established_flow() {
    let c = pair_with(1, openbsd_node_config(0), openbsd_node_config(1));
    let (eligible, pass, frames) = failover_run_on(c, 1, 10_000, TYPICAL);
    println!("OpenBSD failover: {pass}/{eligible} flows pass on B ({frames} frames from A)");
    assert!(eligible > 3000, "{eligible}");
    assert_eq!(
        pass, eligible,
        "every flow established >= 1 s before the failure survives"
    );
}

#[test]
fn failover_keeps_every_established_flow() {
    let mut total = (0, 0);
    for seed in 1..=1 {
        let (eligible, pass, frames) = failover_run(seed, 10_000);
        println!(
            "failover seed {seed}: {pass}/{eligible} flows pass on B ({frames} frames from A)"
        );
        assert!(eligible > 3000, "{eligible}");
        total.0 += eligible;
        total.1 += pass;
    }
    println!(
        "failover: {}/{} = {:.4}",
        total.1,
        total.0,
        total.1 as f64 / total.0 as f64
    );
    assert_eq!(
        total.0, total.1,
        "every flow established >= 1 s before the failure survives"
    );
}

#[test]
#[ignore = "many seeds; run in release: cargo test --release --test sim_failover -- --ignored"]
fn failover_over_many_seeds() {
    let total = failover_totals(100..120, 10_000, TYPICAL);
    println!(
        "failover over 20 seeds: {}/{} = {:.6}",
        total.1,
        total.0,
        total.1 as f64 / total.0 as f64
    );
    assert_eq!(total.0, total.1);
}

/// The hard case for any 1 s flush: unscaled 64 KB windows and flows moving
/// up to 1460 bytes every 1-5 ms (~500 KB/s each). Reported, not a target.
#[test]
#[ignore = "report only; run in release"]
fn failover_with_fast_unscaled_flows() {
    let mix = FlowMix {
        scaled: false,
        min_gap_ms: 20,
        spread_ms: 20,
    };
    let total = failover_totals(200..203, 500, mix);
    println!(
        "failover, fast unscaled flows: {}/{} = {:.4}",
        total.1,
        total.0,
        total.1 as f64 / total.0 as f64
    );
    assert!(total.0 > 0);
}

/// B holds every state of A, each at least as new as A's copy was `lag` ago.
fn caught_up(c: &Cluster, history: &[Vec<u32>]) -> bool {
    let b = &c.nodes[1].table;
    let Some(old) = history.first() else {
        return false;
    };
    b.len() == c.nodes[0].table.len()
        && old.iter().enumerate().all(|(i, seqlo)| {
            b.get(&state_id(0, i as u64 + 1))
                .is_some_and(|t| !pfsync::engine::merge::seq_gt(*seqlo, t.record.src.seqlo))
        })
}

/// Exact agreement (used once traffic has stopped).
fn identical(c: &Cluster) -> usize {
    let a = &c.nodes[0].table;
    let b = &c.nodes[1].table;
    a.iter()
        .filter(|(id, s)| {
            !b.get(id)
                .is_some_and(|t| t.record.src == s.record.src && t.record.dst == s.record.dst)
        })
        .count()
}

#[test]
fn converges_after_a_lossy_period() {
    let seed = 41;
    let mut c = pair(seed);
    shim_like(&mut c);
    let mut rng = Rng::new(seed);
    let flows = 2000u64;
    let now = c.now;
    c.link.loss_ppm = 200_000;
    let mut ends: Vec<(u32, u32)> = Vec::new();
    c.with_node(0, |a| {
        for n in 1..=flows {
            let r = tcp_state(0, n);
            a.create_state(now, r);
            ends.push((r.src.seqlo, r.dst.seqlo));
        }
    });
    // 10 s of 20% loss, then loss stops; every flow keeps exchanging about
    // once a second. Caught up = B no more than 1.1 s behind A on every
    // state (the flush interval plus the link).
    let tick = Duration::from_millis(100);
    let lag_ticks = 11;
    let loss_ends = c.now + Duration::from_secs(10);
    let traffic_ends = loss_ends + Duration::from_secs(20);
    let mut history: Vec<Vec<u32>> = Vec::new();
    let mut caught_up_at = None;
    let mut t = c.now;
    while t < traffic_ends {
        t = t + tick;
        c.run_until(t);
        if t >= loss_ends {
            c.link.loss_ppm = 0;
        }
        let now = c.now;
        for n in 1..=flows {
            if !rng.chance(100_000) {
                continue;
            }
            let id = state_id(0, n);
            let Some(e) = ends.get_mut(n as usize - 1) else {
                continue;
            };
            let len = 1 + rng.below(1000) as u32;
            let seg = Segment {
                from_src: true,
                seq: e.0,
                len,
                ack: e.1,
                win: 65535,
            };
            e.0 = e.0.wrapping_add(len);
            c.with_node(0, |a| a.tcp_packet(now, &id, &seg))
                .unwrap()
                .unwrap();
        }
        history.push(ends.iter().map(|e| e.0).collect());
        if history.len() > lag_ticks {
            history.remove(0);
        }
        if t >= loss_ends
            && caught_up_at.is_none()
            && history.len() == lag_ticks
            && caught_up(&c, &history)
        {
            caught_up_at = Some(t);
        }
    }
    // Traffic stops: the last lost update of an idle flow is never repeated
    // (stock has no anti-entropy); an explicit resync repairs it.
    c.run_for(Duration::from_secs(3));
    let stale_when_idle = identical(&c);
    let now = c.now;
    c.with_node(1, |b| b.resync(now));
    let resync_from = c.now;
    while c.nodes[1].engine.bulk_request_state() != pfsync::engine::ReqState::Done
        && c.now < resync_from + Duration::from_secs(10)
    {
        c.run_for(Duration::from_millis(1));
    }
    let bulk_ms = c.now.saturating_since(resync_from).as_millis();
    c.run_for(Duration::from_millis(100));
    let after_resync = identical(&c);
    let took = caught_up_at.map(|t| t.saturating_since(loss_ends));
    println!(
        "convergence after 10 s of 20% loss ({flows} flows, ~1 update/s each): caught up {:?} ms after loss stopped; \
         B sent {} UPD_REQ; {stale_when_idle} states still differ once traffic stops; {after_resync} after a resync \
         (bulk done in {} ms)",
        took.map(|d| d.as_millis()),
        c.nodes[1].engine.stats().oacts[5],
        bulk_ms,
    );
    // Bounded by the longest gap before a flow's next update (a lost UPD_C is
    // only repaired by the next one) plus the 1 s flush.
    assert!(
        took.is_some_and(|d| d <= Duration::from_secs(10)),
        "{took:?}"
    );
    assert_eq!(after_resync, 0);
}
