//! Runs one wire operation many times, for instruction counting under
//! `valgrind --tool=callgrind` (scripts/bench-wire-ratios.sh --callgrind).
//!
//!     wire_cost 1301|1400|1500|upd_c none|memcpy|validate|decode|parse|encode ITERATIONS
//!
//! `none` is the loop alone; subtract it from the others. `validate` checks a
//! view (`StateView`, `UpdCView`), `decode` fills the owned form (a reused
//! scratch `StateRecord` via `decode_into`; `UpdC::decode`), `parse` returns a
//! new owned record each time.
//! `reader` (owned `Event`s) and `views` (`ViewEvent`s) walk one frame of that record kind filled to a 1500-byte MTU
//! (`FrameReader`, every record decoded and checked) and prints how many
//! records a frame holds, to divide by.

use pfsync::wire::samples;
use pfsync::wire::{
    FrameBuilder, FrameReader, MsgVersion, StateChecks, StateRecord, StateView, UpdC, UpdCView,
};
use std::hint::black_box;
use std::process::ExitCode;

#[derive(Clone, Copy)]
enum Op {
    None,
    Memcpy,
    Views,
    Reader,
    Validate,
    Decode,
    Parse,
    Encode,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "none" => Op::None,
            "memcpy" => Op::Memcpy,
            "views" => Op::Views,
            "reader" => Op::Reader,
            "validate" => Op::Validate,
            "decode" => Op::Decode,
            "parse" => Op::Parse,
            "encode" => Op::Encode,
            _ => return None,
        })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, op, iters] = args.as_slice() else {
        eprintln!("usage: wire_cost 1301|1400|1500|upd_c OP ITERATIONS");
        return ExitCode::from(2);
    };
    let iters: u64 = iters.parse().unwrap_or(0);
    let version = match kind.as_str() {
        "1301" => Some(MsgVersion::V1301),
        "1400" => Some(MsgVersion::V1400),
        "1500" => Some(MsgVersion::V1500),
        _ => None,
    };
    let (len, wire) = match version {
        Some(v) => {
            let mut w = vec![0u8; v.state_len()];
            samples::state(v, 3).emit(v, &mut w).unwrap();
            (v.state_len(), w)
        }
        None => {
            let mut w = vec![0u8; UpdC::LEN];
            samples::upd_c(3).emit(&mut w).unwrap();
            (UpdC::LEN, w)
        }
    };
    let mut out = vec![0u8; len];
    let state = version.map(|v| samples::state(v, 3)).unwrap_or_default();
    let mut scratch = StateRecord::default();
    let upd_c = samples::upd_c(3);
    let mut frame = vec![0u8; 1460];
    let (frame_len, per_frame) = {
        let mut b = FrameBuilder::new(&mut frame, 1460).unwrap();
        let mut n = 0;
        while match version {
            Some(v) => b.push_upd(v, &state).is_ok(),
            None => b.push_upd_c(&upd_c).is_ok(),
        } {
            n += 1;
        }
        (b.finish([0; 16], true), n)
    };
    if op == "reader" || op == "views" {
        println!("records per frame: {per_frame}");
    }

    // Chosen once: matching the operation's name inside the loop would add a
    // string compare that grows with the arm's position and skews the ratios.
    // Results are black-boxed by reference: by value, the harness itself
    // would copy a ~470-byte record once or twice per call.
    let Some(op) = Op::parse(op) else {
        eprintln!("unknown operation {op}");
        return ExitCode::from(2);
    };
    for _ in 0..iters {
        let wire = black_box(&wire[..]);
        match (version, op) {
            (_, Op::None) => {}
            (_, Op::Memcpy) => out.copy_from_slice(wire),
            (_, Op::Views) => {
                for event in FrameReader::new(black_box(&frame[..frame_len]))
                    .unwrap()
                    .views()
                {
                    black_box(event).ok();
                }
            }
            (_, Op::Reader) => {
                for event in FrameReader::new(black_box(&frame[..frame_len])).unwrap() {
                    black_box(event).ok();
                }
            }
            (Some(v), Op::Validate) => {
                black_box(StateView::new_checked(wire, v, StateChecks::Insert).is_ok());
            }
            (Some(v), Op::Decode) => {
                black_box(scratch.decode_into(wire, v, StateChecks::Insert).is_ok());
            }
            (Some(v), Op::Parse) => {
                let parsed = StateRecord::parse(wire, v);
                black_box(&parsed);
            }
            (Some(v), Op::Encode) => {
                black_box(black_box(&state).emit(v, &mut out).is_ok());
            }
            (None, Op::Validate) => {
                black_box(UpdCView::new_checked(wire).is_ok());
            }
            (None, Op::Decode) => {
                let decoded = UpdC::decode(wire);
                black_box(&decoded);
            }
            (None, Op::Parse) => {
                let parsed = UpdC::parse(wire);
                black_box(&parsed);
            }
            (None, Op::Encode) => {
                black_box(black_box(&upd_c).emit(&mut out).is_ok());
            }
        }
        black_box(&out);
        black_box(&scratch);
    }
    ExitCode::SUCCESS
}
