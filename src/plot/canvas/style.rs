//! The look shared by every chart: the font and its sizes, the colour of each scheme and
//! revocation strategy (Tableau 10, the same in every chart), and the greys and reds of
//! references, limits and the grid.

use crate::results::schema::revoke::Strategy;
use crate::scheme::spec::{SchemeId, StoreKind};
use crate::scheme::{JwtAlg, PasetoPurpose};
use plotters::prelude::*;

/// Font family of every text.
const FONT: &str = "sans-serif";
/// Chart title size, px.
pub(super) const TITLE_PX: f64 = 21.0;
/// Axis description size, px.
pub(super) const DESC_PX: f64 = 16.0;
/// Tick, category and legend label size, px.
pub(super) const LABEL_PX: f64 = 14.0;

/// Black text in the chart font, `px` pixels high.
pub(crate) fn text(px: f64) -> TextStyle<'static> {
    (FONT, px).into_font().color(&BLACK)
}

/// Colour of a scheme (Tableau 10), the same in every chart.
pub(crate) fn scheme_color(id: SchemeId) -> RGBColor {
    match id {
        SchemeId::Session(StoreKind::Memory) => BLUE,
        SchemeId::Session(StoreKind::RwLock) => TEAL,
        SchemeId::Jwt(JwtAlg::HS256) => ORANGE,
        SchemeId::Jwt(JwtAlg::RS256) => RED,
        SchemeId::Jwt(JwtAlg::ES256) => GREEN,
        SchemeId::Jwt(JwtAlg::EdDSA) => PURPLE,
        SchemeId::Session(StoreKind::Redis) => YELLOW,
        SchemeId::Session(StoreKind::RedisCluster) => BROWN,
        SchemeId::Session(StoreKind::Postgres) => LIGHT_BLUE,
        SchemeId::Paseto(PasetoPurpose::Public) => LIGHT_ORANGE,
        SchemeId::Paseto(PasetoPurpose::Local) => LIGHT_GREEN,
        // One colour per refresh store (the default hybrids are HS256, one per store); a
        // hybrid of another algorithm shares its store's colour.
        SchemeId::Hybrid(_, StoreKind::Memory) => PINK,
        SchemeId::Hybrid(_, StoreKind::RwLock) => LIGHT_PURPLE,
        SchemeId::Hybrid(_, StoreKind::Redis) => GREY,
        SchemeId::Hybrid(_, StoreKind::RedisCluster) => OLIVE,
        SchemeId::Hybrid(_, StoreKind::Postgres) => ROSE,
    }
}

/// Colour of a revocation strategy, the same in every chart: each family's baseline and
/// its first alternatives take the colours of the schemes they run on.
pub(crate) fn strategy_color(s: Strategy) -> RGBColor {
    match s {
        Strategy::SessionCentral => BLUE,
        Strategy::SessionCache => TEAL,
        Strategy::JwtExpiryOnly => ORANGE,
        Strategy::JwtDenylistCentral => RED,
        Strategy::JwtDenylistPushed => GREEN,
        Strategy::JwtDenylistPolled => PURPLE,
        // The Redis strategies: the rest of Tableau 10, one each, so no two strategies of a
        // chart share a colour.
        Strategy::SessionCentralRedis => YELLOW,
        Strategy::JwtDenylistCentralRedis => BROWN,
        Strategy::JwtDenylistPushedRedis => PINK,
        Strategy::JwtDenylistPolledRedis => GREY,
        // Beyond Tableau 10: the light tones of Tableau 20, as their schemes have.
        Strategy::SessionCentralPostgres => LIGHT_BLUE,
        Strategy::PasetoExpiryOnly => LIGHT_ORANGE,
        Strategy::PasetoDenylistCentral => LIGHT_PURPLE,
    }
}

const LIGHT_BLUE: RGBColor = RGBColor(0xa0, 0xcb, 0xe8);
const LIGHT_ORANGE: RGBColor = RGBColor(0xff, 0xbe, 0x7d);
const LIGHT_GREEN: RGBColor = RGBColor(0x8c, 0xd1, 0x7d);
const LIGHT_PURPLE: RGBColor = RGBColor(0xd4, 0xa6, 0xc8);
const YELLOW: RGBColor = RGBColor(0xed, 0xc9, 0x48);
const BROWN: RGBColor = RGBColor(0x9c, 0x75, 0x5f);
const PINK: RGBColor = RGBColor(0xff, 0x9d, 0xa7);
const GREY: RGBColor = RGBColor(0x79, 0x70, 0x6e);
const OLIVE: RGBColor = RGBColor(0xb6, 0x99, 0x2d);
const ROSE: RGBColor = RGBColor(0xd3, 0x72, 0x95);

const BLUE: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
const TEAL: RGBColor = RGBColor(0x76, 0xb7, 0xb2);
const ORANGE: RGBColor = RGBColor(0xf2, 0x8e, 0x2b);
const RED: RGBColor = RGBColor(0xe1, 0x57, 0x59);
const GREEN: RGBColor = RGBColor(0x59, 0xa1, 0x4f);
const PURPLE: RGBColor = RGBColor(0xb0, 0x7a, 0xa1);

/// Grey of reference bars.
pub(crate) const REFERENCE: RGBColor = RGBColor(0xa0, 0xa0, 0xa0);
/// Red of hard limits.
pub(crate) const LIMIT: RGBColor = RGBColor(0xc0, 0x1c, 0x28);
/// Dark orange of soft limits.
pub(crate) const SOFT_LIMIT: RGBColor = RGBColor(0xd9, 0x6c, 0x00);
pub(super) const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

#[cfg(test)]
mod strategy_tests {
    use super::*;

    #[test]
    fn every_scheme_has_its_own_colour() {
        let ids: Vec<SchemeId> = StoreKind::ALL
            .into_iter()
            .map(SchemeId::Session)
            .chain(JwtAlg::ALL.into_iter().map(SchemeId::Jwt))
            .chain(PasetoPurpose::ALL.into_iter().map(SchemeId::Paseto))
            .chain(
                StoreKind::ALL
                    .into_iter()
                    .map(|s| SchemeId::Hybrid(JwtAlg::HS256, s)),
            )
            .collect();
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(scheme_color(*a), scheme_color(*b), "{a} and {b}");
            }
        }
    }

    #[test]
    fn every_strategy_has_its_own_colour() {
        let colours: Vec<RGBColor> = Strategy::EVERY.iter().map(|s| strategy_color(*s)).collect();
        for (i, a) in colours.iter().enumerate() {
            for (j, b) in colours.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "{} and {}", Strategy::EVERY[i], Strategy::EVERY[j]);
            }
        }
    }
}
