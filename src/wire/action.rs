//! Action numbers (`PFSYNC_ACT_*`) and message versions (`PFSYNC_MSG_VERSION_*`).

/// FreeBSD action numbers, sys/net/if_pfsync.h (15.x set; 14.x stops at 14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Action {
    Clr = 0,
    Ins1301 = 1,
    InsAck = 2,
    Upd1301 = 3,
    UpdC = 4,
    UpdReq = 5,
    Del = 6,
    DelC = 7,
    InsF = 8,
    DelF = 9,
    Bus = 10,
    Tdb = 11,
    Eof = 12,
    Ins1400 = 13,
    Upd1400 = 14,
    Ins1500 = 15,
    Upd1500 = 16,
}

/// `PFSYNC_ACT_MAX` of the 15.x headers: the size of the per-action stats arrays.
pub const ACTION_COUNT: usize = 17;

impl Action {
    pub const ALL: [Action; ACTION_COUNT] = [
        Action::Clr,
        Action::Ins1301,
        Action::InsAck,
        Action::Upd1301,
        Action::UpdC,
        Action::UpdReq,
        Action::Del,
        Action::DelC,
        Action::InsF,
        Action::DelF,
        Action::Bus,
        Action::Tdb,
        Action::Eof,
        Action::Ins1400,
        Action::Upd1400,
        Action::Ins1500,
        Action::Upd1500,
    ];

    pub fn from_u8(raw: u8) -> Option<Action> {
        Action::ALL.get(usize::from(raw)).copied()
    }

    /// The stock C name, for logs and decoders.
    pub const fn name(self) -> &'static str {
        match self {
            Action::Clr => "CLR",
            Action::Ins1301 => "INS_1301",
            Action::InsAck => "INS_ACK",
            Action::Upd1301 => "UPD_1301",
            Action::UpdC => "UPD_C",
            Action::UpdReq => "UPD_REQ",
            Action::Del => "DEL",
            Action::DelC => "DEL_C",
            Action::InsF => "INS_F",
            Action::DelF => "DEL_F",
            Action::Bus => "BUS",
            Action::Tdb => "TDB",
            Action::Eof => "EOF",
            Action::Ins1400 => "INS_1400",
            Action::Upd1400 => "UPD_1400",
            Action::Ins1500 => "INS_1500",
            Action::Upd1500 => "UPD_1500",
        }
    }
}

/// Full-state message format, chosen by `ifconfig pfsync0 version N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MsgVersion {
    V1301,
    V1400,
    V1500,
}

impl MsgVersion {
    pub const fn number(self) -> u32 {
        match self {
            MsgVersion::V1301 => 1301,
            MsgVersion::V1400 => 1400,
            MsgVersion::V1500 => 1500,
        }
    }

    /// Maps the ioctl/nvlist value; 0 means "the release default", which the caller supplies.
    pub const fn from_number(n: u32) -> Option<MsgVersion> {
        match n {
            1301 => Some(MsgVersion::V1301),
            1400 => Some(MsgVersion::V1400),
            1500 => Some(MsgVersion::V1500),
            _ => None,
        }
    }

    pub const fn ins_action(self) -> Action {
        match self {
            MsgVersion::V1301 => Action::Ins1301,
            MsgVersion::V1400 => Action::Ins1400,
            MsgVersion::V1500 => Action::Ins1500,
        }
    }

    pub const fn upd_action(self) -> Action {
        match self {
            MsgVersion::V1301 => Action::Upd1301,
            MsgVersion::V1400 => Action::Upd1400,
            MsgVersion::V1500 => Action::Upd1500,
        }
    }

    /// Size in bytes of one full-state record in this format.
    pub const fn state_len(self) -> usize {
        match self {
            MsgVersion::V1301 => 242,
            MsgVersion::V1400 => 277,
            MsgVersion::V1500 => 360,
        }
    }
}
