//! Writes the fuzz seed corpus: valid frames of every kind (FreeBSD and
//! OpenBSD), one per message kind and version plus the mixed sample frames.
//!
//!     fuzz_seeds DIR     (files are named generated-*, git-ignored)

use pfsync::wire::samples;
use pfsync::wire::{
    Action, BusStatus, DelC, FrameBuilder, InsAck, MsgVersion, OpenBsdState, Tdb, UpdReq,
};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: fuzz_seeds DIR");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{dir}: {e}");
        return ExitCode::FAILURE;
    }
    let mut written = 0;
    let mut save = |name: &str, frame: &[u8]| {
        let path = format!("{dir}/generated-{name}");
        match std::fs::write(&path, frame) {
            Ok(()) => written += 1,
            Err(e) => eprintln!("{path}: {e}"),
        }
    };
    let mut buf = vec![0u8; 65535];
    for n in 0..3u8 {
        let len = samples::freebsd_frame(&mut buf, n);
        save(&format!("freebsd-mixed-{n}"), &buf[..len]);
        let len = samples::openbsd_frame(&mut buf, n);
        save(&format!("openbsd-mixed-{n}"), &buf[..len]);
    }
    type Push = fn(&mut FrameBuilder<'_>) -> bool;
    let singles: [(&str, Push); 12] = [
        ("ins-1301", |b| {
            b.push_ins(MsgVersion::V1301, &samples::state(MsgVersion::V1301, 1))
                .is_ok()
        }),
        ("ins-1400", |b| {
            b.push_ins(MsgVersion::V1400, &samples::state(MsgVersion::V1400, 1))
                .is_ok()
        }),
        ("ins-1500", |b| {
            b.push_ins(MsgVersion::V1500, &samples::state(MsgVersion::V1500, 1))
                .is_ok()
        }),
        ("upd-1301", |b| {
            b.push_upd(MsgVersion::V1301, &samples::state(MsgVersion::V1301, 2))
                .is_ok()
        }),
        ("upd-1400", |b| {
            b.push_upd(MsgVersion::V1400, &samples::state(MsgVersion::V1400, 2))
                .is_ok()
        }),
        ("upd-1500", |b| {
            b.push_upd(MsgVersion::V1500, &samples::state(MsgVersion::V1500, 2))
                .is_ok()
        }),
        ("upd-c", |b| b.push_upd_c(&samples::upd_c(1)).is_ok()),
        ("ins-ack", |b| {
            b.push_ins_ack(&InsAck {
                state: samples::state_id(1),
            })
            .is_ok()
        }),
        ("del-c", |b| {
            b.push_del_c(&DelC {
                state: samples::state_id(1),
            })
            .is_ok()
        }),
        ("upd-req-bulk", |b| b.push_upd_req(&UpdReq::BULK).is_ok()),
        ("clr", |b| b.push_clr(&samples::clr()).is_ok()),
        ("bus-end", |b| {
            b.push_bus(&samples::bus(BusStatus::End)).is_ok()
        }),
    ];
    for (name, push) in singles {
        let Ok(mut b) = FrameBuilder::new(&mut buf, 1460) else {
            return ExitCode::FAILURE;
        };
        push(&mut b);
        let len = b.finish([0; 16], true);
        save(&format!("freebsd-{name}"), &buf[..len]);
    }
    let Ok(mut b) = FrameBuilder::new(&mut buf, 1460) else {
        return ExitCode::FAILURE;
    };
    let t = samples::tdb();
    let _ = b.push_with(Action::Tdb as u8, Tdb::LEN, |d| {
        let _ = t.emit(d);
    });
    let len = b.finish([0; 16], true);
    save("freebsd-tdb", &buf[..len]);
    let Ok(mut b) = FrameBuilder::new_openbsd(&mut buf, 1460) else {
        return ExitCode::FAILURE;
    };
    let s = samples::openbsd_state(1);
    let _ = b.push_with(6, OpenBsdState::LEN, |d| {
        let _ = s.emit(d);
    });
    let len = b.finish([0; 16], false);
    save("openbsd-del", &buf[..len]);
    println!("fuzz_seeds: {written} frames in {dir}");
    ExitCode::SUCCESS
}
