//! Walks arbitrary bytes as a FreeBSD 14.x, FreeBSD 15.x and OpenBSD frame.
//! Besides "no panic", every message the reader accepts must survive
//! emit -> parse unchanged, the walk must stop after an error, and the
//! zero-copy walk must agree with the owned one event for event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pfsync::wire::{
    agreement, Dialect, Event, FrameReader, Message, StateChecks, StateRecord, UpdC,
};

fn reencode(m: &Message) {
    let mut buf = [0u8; 512];
    match m {
        Message::Ins { version, state } | Message::Upd { version, state } => {
            let n = state.emit(*version, &mut buf).expect("room");
            let again =
                StateRecord::decode(&buf[..n], *version, StateChecks::Update).expect("re-parse");
            assert_eq!(&again, state);
        }
        Message::UpdC(u) if u.state_flags == 0 => {
            u.emit(&mut buf).expect("room");
            assert_eq!(&UpdC::parse(&buf).expect("re-parse"), u);
        }
        Message::OpenBsdIns(s) | Message::OpenBsdUpd(s) => {
            s.emit(&mut buf).expect("room");
            let again = pfsync::wire::OpenBsdState::decode(&buf, false).expect("re-parse");
            assert_eq!(&again, s);
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    for dialect in [Dialect::FreeBsd14, Dialect::FreeBsd15, Dialect::OpenBsd] {
        let Ok(reader) = FrameReader::with_dialect(data, dialect) else {
            continue;
        };
        // The zero-copy walk (the engine's) must yield the same events, its
        // views decoding to the owned messages.
        if let Err(e) = agreement::walks_agree(data, dialect) {
            panic!("{e}");
        }
        let mut failed = false;
        for event in reader {
            assert!(!failed, "event after an error");
            match event {
                Ok(Event::Message(m)) => reencode(&m),
                Ok(_) => {}
                Err(_) => failed = true,
            }
        }
    }
});
