//! A checked, borrowed UPD_C record. UPD_C is what a busy peer sends most
//! (one per state change), and the receiver needs only its identity to find
//! the state and then its two peers to merge: the view checks the record in
//! place and decodes each part when it is asked for.

use super::field::{be32, get, u8_at};
use super::peer::{self, WirePeer};
use super::state::{Peer, StateId};
use super::state_format::{check_values, StateChecks};
use super::upd_c::{field, UpdC};
use super::Reject;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdCView<'a> {
    bytes: &'a [u8; UpdC::LEN],
    /// OpenBSD carries `state_flags` in byte 81, FreeBSD pads it.
    openbsd: bool,
}

impl<'a> UpdCView<'a> {
    /// Applies FreeBSD's UPD_C checks (timeout, peer states) to the first
    /// `UpdC::LEN` bytes, naming the failure as [`UpdC::decode`] does.
    #[inline]
    pub fn new_checked(bytes: &'a [u8]) -> Result<UpdCView<'a>, Reject> {
        let b = bytes.first_chunk::<{ UpdC::LEN }>().ok_or(Reject::Short)?;
        let (timeout, src_state, dst_state) = check_bytes(b);
        check_values(timeout, src_state, dst_state, 0, 0, StateChecks::Update)?;
        Ok(UpdCView {
            bytes: b,
            openbsd: false,
        })
    }

    /// OpenBSD's checks, as [`UpdC::decode_openbsd`].
    #[inline]
    pub fn new_checked_openbsd(bytes: &'a [u8]) -> Result<UpdCView<'a>, Reject> {
        let b = bytes.first_chunk::<{ UpdC::LEN }>().ok_or(Reject::Short)?;
        let (timeout, src_state, dst_state) = check_bytes(b);
        super::openbsd::check_update(timeout, src_state, dst_state)?;
        Ok(UpdCView {
            bytes: b,
            openbsd: true,
        })
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn state_id(&self) -> StateId {
        StateId {
            id: get(self.bytes, field::ID),
            creatorid: get(self.bytes, field::CREATORID),
        }
    }

    pub fn src(&self) -> Peer {
        peer::decode(&get(self.bytes, field::SRC))
    }

    /// The src peer's 32 bytes as sent, for a host that merges wire peers.
    #[inline]
    pub fn src_wire(&self) -> WirePeer {
        WirePeer(get(self.bytes, field::SRC))
    }

    pub fn dst(&self) -> Peer {
        peer::decode(&get(self.bytes, field::DST))
    }

    /// The dst peer's 32 bytes as sent, for a host that merges wire peers.
    #[inline]
    pub fn dst_wire(&self) -> WirePeer {
        WirePeer(get(self.bytes, field::DST))
    }

    pub fn timeout(&self) -> u8 {
        u8_at(self.bytes, field::TIMEOUT)
    }

    pub fn expire(&self) -> u32 {
        be32(self.bytes, field::EXPIRE)
    }

    /// OpenBSD's `state_flags`; 0 from a FreeBSD record.
    pub fn state_flags(&self) -> u8 {
        if self.openbsd {
            u8_at(self.bytes, field::OPENBSD_STATE_FLAGS)
        } else {
            0
        }
    }

    /// The whole record, decoded.
    pub fn to_upd_c(&self) -> UpdC {
        UpdC {
            id: get(self.bytes, field::ID),
            src: self.src(),
            dst: self.dst(),
            creatorid: get(self.bytes, field::CREATORID),
            expire: self.expire(),
            timeout: self.timeout(),
            state_flags: self.state_flags(),
        }
    }
}

/// The bytes both dialects check: timeout and the two peer states.
#[inline(always)]
fn check_bytes(b: &[u8; UpdC::LEN]) -> (u8, u8, u8) {
    (
        u8_at(b, field::TIMEOUT),
        u8_at(b, peer::state_field(field::SRC)),
        u8_at(b, peer::state_field(field::DST)),
    )
}
