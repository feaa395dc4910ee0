//! The CSS an XHTML-IM `style` attribute may carry: XEP-0071's ten recommended CSS1
//! properties, each with a closed set of typed values.
//!
//! Parsing is lenient in what it skips and strict in what it keeps: a declaration whose
//! property or value is not understood is dropped alone, and only typed values are kept,
//! so `expression(...)`, `url(...)`, escapes and comments can never survive — the style
//! written out is generated from the values, not copied from the input.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

/// Most font families kept from one `font-family` list.
pub const MAX_FONT_FAMILIES: usize = 8;
/// Longest font family name, in bytes.
pub const MAX_FONT_NAME_BYTES: usize = 64;
/// Largest length or percentage kept, in hundredths (1000.00 of any unit).
const MAX_HUNDREDTHS: u32 = 100_000;

/// An sRGB colour. Named CSS1 colours, `#rgb`, `#rrggbb` and `rgb(r, g, b)` are read;
/// `#rrggbb` is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
}

impl Color {
    /// A colour from its components.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b }
    }

    fn parse(v: &str) -> Option<Color> {
        if let Some(hex) = v.strip_prefix('#') {
            let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
            let b = hex.as_bytes();
            return match b.len() {
                3 => {
                    let (r, g, bl) = (digit(b[0])?, digit(b[1])?, digit(b[2])?);
                    Some(Color::rgb(r * 17, g * 17, bl * 17))
                }
                6 => {
                    let byte = |i: usize| Some(digit(b[i])? * 16 + digit(b[i + 1])?);
                    Some(Color::rgb(byte(0)?, byte(2)?, byte(4)?))
                }
                _ => None,
            };
        }
        if let Some(args) = strip_function(v, "rgb") {
            let mut parts = args.split(',').map(str::trim);
            let mut next = || -> Option<u8> {
                let p = parts.next()?;
                match p.strip_suffix('%') {
                    Some(pct) => {
                        let n: u32 = parse_uint(pct)?;
                        (n <= 100).then(|| ((n * 255 + 50) / 100) as u8)
                    }
                    None => u8::try_from(parse_uint(p)?).ok(),
                }
            };
            let c = Color::rgb(next()?, next()?, next()?);
            return parts.next().is_none().then_some(c);
        }
        NAMED_COLORS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(v))
            .map(|&(_, c)| c)
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// The sixteen colour names of CSS1 (HTML 4).
const NAMED_COLORS: &[(&str, Color)] = &[
    ("aqua", Color::rgb(0, 255, 255)),
    ("black", Color::rgb(0, 0, 0)),
    ("blue", Color::rgb(0, 0, 255)),
    ("fuchsia", Color::rgb(255, 0, 255)),
    ("gray", Color::rgb(128, 128, 128)),
    ("grey", Color::rgb(128, 128, 128)),
    ("green", Color::rgb(0, 128, 0)),
    ("lime", Color::rgb(0, 255, 0)),
    ("maroon", Color::rgb(128, 0, 0)),
    ("navy", Color::rgb(0, 0, 128)),
    ("olive", Color::rgb(128, 128, 0)),
    ("purple", Color::rgb(128, 0, 128)),
    ("red", Color::rgb(255, 0, 0)),
    ("silver", Color::rgb(192, 192, 192)),
    ("teal", Color::rgb(0, 128, 128)),
    ("white", Color::rgb(255, 255, 255)),
    ("yellow", Color::rgb(255, 255, 0)),
];

/// The unit of a [`Length`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// `px`
    Px,
    /// `pt`
    Pt,
    /// `pc`
    Pc,
    /// `em`
    Em,
    /// `ex`
    Ex,
    /// `mm`
    Mm,
    /// `cm`
    Cm,
    /// `in`
    In,
    /// `%`
    Percent,
}

const UNITS: &[(&str, Unit)] = &[
    ("px", Unit::Px),
    ("pt", Unit::Pt),
    ("pc", Unit::Pc),
    ("em", Unit::Em),
    ("ex", Unit::Ex),
    ("mm", Unit::Mm),
    ("cm", Unit::Cm),
    ("in", Unit::In),
    ("%", Unit::Percent),
];

/// A non-negative length or percentage with two decimals (negative margins could lay one
/// part of a message over another, so there are none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Length {
    hundredths: u32,
    unit: Unit,
}

impl Length {
    /// `hundredths / 100` of `unit`; `None` above 1000 units.
    pub fn new(hundredths: u32, unit: Unit) -> Option<Length> {
        (hundredths <= MAX_HUNDREDTHS).then_some(Length { hundredths, unit })
    }

    /// A whole number of `unit`s; `None` above 1000.
    pub fn whole(n: u32, unit: Unit) -> Option<Length> {
        Length::new(n.checked_mul(100)?, unit)
    }

    /// The value, in hundredths of the unit.
    pub fn hundredths(&self) -> u32 {
        self.hundredths
    }

    /// The unit.
    pub fn unit(&self) -> Unit {
        self.unit
    }

    fn parse(v: &str) -> Option<Length> {
        if v == "0" {
            return Length::new(0, Unit::Px);
        }
        let (number, unit) = UNITS.iter().find_map(|&(suffix, unit)| {
            let n = v.len().checked_sub(suffix.len())?;
            let (number, s) = (v.get(..n)?, v.get(n..)?);
            s.eq_ignore_ascii_case(suffix).then_some((number, unit))
        })?;
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && frac.is_empty()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole = if whole.is_empty() {
            0
        } else {
            parse_uint(whole)?
        };
        // Two decimals are kept; further ones are cut.
        let mut f = frac.bytes().chain(core::iter::repeat(b'0')).take(2);
        let tens = u32::from(f.next().unwrap_or(b'0') - b'0');
        let ones = u32::from(f.next().unwrap_or(b'0') - b'0');
        Length::new(whole.checked_mul(100)?.checked_add(tens * 10 + ones)?, unit)
    }
}

impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.hundredths / 100, self.hundredths % 100);
        match frac {
            0 => write!(f, "{whole}")?,
            n if n % 10 == 0 => write!(f, "{whole}.{}", n / 10)?,
            n => write!(f, "{whole}.{n:02}")?,
        }
        let unit = UNITS
            .iter()
            .find(|(_, u)| *u == self.unit)
            .map_or("", |(s, _)| s);
        f.write_str(unit)
    }
}

macro_rules! keywords {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v,)* }

        impl $name {
            /// The CSS keyword.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)* }
            }

            fn parse(v: &str) -> Option<$name> {
                [$($name::$v,)*].into_iter().find(|k| k.as_str().eq_ignore_ascii_case(v))
            }
        }
    };
}

keywords! {
    /// `font-size` keywords.
    pub enum SizeKeyword {
        /// `xx-small`
        XxSmall => "xx-small",
        /// `x-small`
        XSmall => "x-small",
        /// `small`
        Small => "small",
        /// `medium`
        Medium => "medium",
        /// `large`
        Large => "large",
        /// `x-large`
        XLarge => "x-large",
        /// `xx-large`
        XxLarge => "xx-large",
        /// `larger` (relative to the parent)
        Larger => "larger",
        /// `smaller` (relative to the parent)
        Smaller => "smaller",
    }
}

keywords! {
    /// `font-style`.
    pub enum FontStyle {
        /// `normal`
        Normal => "normal",
        /// `italic`
        Italic => "italic",
        /// `oblique`
        Oblique => "oblique",
    }
}

keywords! {
    /// `text-align`.
    pub enum TextAlign {
        /// `left`
        Left => "left",
        /// `right`
        Right => "right",
        /// `center`
        Center => "center",
        /// `justify`
        Justify => "justify",
    }
}

keywords! {
    /// Generic font families.
    pub enum GenericFamily {
        /// `serif`
        Serif => "serif",
        /// `sans-serif`
        SansSerif => "sans-serif",
        /// `monospace`
        Monospace => "monospace",
        /// `cursive`
        Cursive => "cursive",
        /// `fantasy`
        Fantasy => "fantasy",
    }
}

/// `font-size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FontSize {
    /// A keyword.
    Keyword(SizeKeyword),
    /// A length or percentage.
    Length(Length),
}

/// `font-weight`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FontWeight {
    /// `normal`
    Normal,
    /// `bold`
    Bold,
    /// `bolder`
    Bolder,
    /// `lighter`
    Lighter,
    /// `100` to `900`, in hundreds (1–9).
    Hundreds(u8),
}

impl FontWeight {
    fn parse(v: &str) -> Option<FontWeight> {
        Some(match v.to_ascii_lowercase().as_str() {
            "normal" => FontWeight::Normal,
            "bold" => FontWeight::Bold,
            "bolder" => FontWeight::Bolder,
            "lighter" => FontWeight::Lighter,
            n => {
                let n = parse_uint(n)?;
                if n % 100 != 0 || !(100..=900).contains(&n) {
                    return None;
                }
                FontWeight::Hundreds((n / 100) as u8)
            }
        })
    }

    fn is_valid(self) -> bool {
        !matches!(self, FontWeight::Hundreds(n) if !(1..=9).contains(&n))
    }
}

impl fmt::Display for FontWeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FontWeight::Normal => f.write_str("normal"),
            FontWeight::Bold => f.write_str("bold"),
            FontWeight::Bolder => f.write_str("bolder"),
            FontWeight::Lighter => f.write_str("lighter"),
            FontWeight::Hundreds(n) => write!(f, "{}", u32::from(*n) * 100),
        }
    }
}

/// `text-decoration`: all three false is `none`. (`blink` is not kept.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TextDecoration {
    /// `underline`
    pub underline: bool,
    /// `overline`
    pub overline: bool,
    /// `line-through`
    pub line_through: bool,
}

impl TextDecoration {
    fn parse(v: &str) -> Option<TextDecoration> {
        if v.eq_ignore_ascii_case("none") {
            return Some(TextDecoration::default());
        }
        let mut d = TextDecoration::default();
        let mut any = false;
        for word in v.split_ascii_whitespace() {
            match word.to_ascii_lowercase().as_str() {
                "underline" => d.underline = true,
                "overline" => d.overline = true,
                "line-through" => d.line_through = true,
                "blink" => continue,
                _ => return None,
            }
            any = true;
        }
        any.then_some(d)
    }
}

impl fmt::Display for TextDecoration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = [
            (self.underline, "underline"),
            (self.overline, "overline"),
            (self.line_through, "line-through"),
        ];
        let mut sep = "";
        for (_, w) in words.iter().filter(|(on, _)| *on) {
            write!(f, "{sep}{w}")?;
            sep = " ";
        }
        if sep.is_empty() {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// One entry of `font-family`: a generic family, or a name of letters, digits, spaces,
/// `-` and `_` (so it can never close its quotes or the declaration).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FontFamily {
    /// A generic family.
    Generic(GenericFamily),
    /// A named family (checked by [`FontFamily::named`]).
    Named(FamilyName),
}

/// A checked font family name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FamilyName(String);

impl FamilyName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FontFamily {
    /// A named family; `None` if the name is empty, longer than [`MAX_FONT_NAME_BYTES`],
    /// has characters other than letters, digits, inner spaces, `-` and `_`, or is a
    /// generic family's keyword (use [`FontFamily::Generic`]).
    pub fn named(name: &str) -> Option<FontFamily> {
        let ok = !name.is_empty()
            && name.len() <= MAX_FONT_NAME_BYTES
            && name.trim() == name
            && !name.contains("  ")
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
            && GenericFamily::parse(name).is_none();
        ok.then(|| FontFamily::Named(FamilyName(String::from(name))))
    }

    fn parse(v: &str) -> Option<FontFamily> {
        let quoted = ['"', '\'']
            .iter()
            .find_map(|&q| v.strip_prefix(q)?.strip_suffix(q));
        match quoted {
            Some(name) => FontFamily::named(name),
            None => GenericFamily::parse(v)
                .map(FontFamily::Generic)
                .or_else(|| {
                    // Unquoted names are identifiers separated by white space.
                    let words: Vec<&str> = v.split_ascii_whitespace().collect();
                    let name = words.join(" ");
                    words
                        .iter()
                        .all(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
                        .then(|| FontFamily::named(&name))
                        .flatten()
                }),
        }
    }
}

impl fmt::Display for FontFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FontFamily::Generic(g) => f.write_str(g.as_str()),
            FontFamily::Named(n) => write!(f, "\"{}\"", n.0),
        }
    }
}

/// The presentational style of one element: XEP-0071's recommended properties.
/// `Style::default()` sets nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Style {
    /// `color`
    pub color: Option<Color>,
    /// `background-color`
    pub background_color: Option<Color>,
    /// `font-family`, in order of preference (empty: not set); at most
    /// [`MAX_FONT_FAMILIES`].
    pub font_family: Vec<FontFamily>,
    /// `font-size`
    pub font_size: Option<FontSize>,
    /// `font-style`
    pub font_style: Option<FontStyle>,
    /// `font-weight`
    pub font_weight: Option<FontWeight>,
    /// `margin-left`
    pub margin_left: Option<Length>,
    /// `margin-right`
    pub margin_right: Option<Length>,
    /// `text-align`
    pub text_align: Option<TextAlign>,
    /// `text-decoration`
    pub text_decoration: Option<TextDecoration>,
}

impl Style {
    /// No property set.
    pub fn new() -> Style {
        Style::default()
    }

    /// With `font-weight: bold`.
    pub fn bold(mut self) -> Style {
        self.font_weight = Some(FontWeight::Bold);
        self
    }

    /// With `font-style: italic`.
    pub fn italic(mut self) -> Style {
        self.font_style = Some(FontStyle::Italic);
        self
    }

    /// With `text-decoration: underline` (added to any other decoration).
    pub fn underline(mut self) -> Style {
        self.text_decoration
            .get_or_insert_with(Default::default)
            .underline = true;
        self
    }

    /// With `text-decoration: line-through` (added to any other decoration).
    pub fn strike(mut self) -> Style {
        self.text_decoration
            .get_or_insert_with(Default::default)
            .line_through = true;
        self
    }

    /// With `color`.
    pub fn color(mut self, c: Color) -> Style {
        self.color = Some(c);
        self
    }

    /// With `background-color`.
    pub fn background(mut self, c: Color) -> Style {
        self.background_color = Some(c);
        self
    }

    /// With `font-size`.
    pub fn size(mut self, s: FontSize) -> Style {
        self.font_size = Some(s);
        self
    }

    /// With one more `font-family` entry.
    pub fn family(mut self, f: FontFamily) -> Style {
        self.font_family.push(f);
        self
    }

    /// With `text-align`.
    pub fn align(mut self, a: TextAlign) -> Style {
        self.text_align = Some(a);
        self
    }

    /// With `margin-left` (indentation).
    pub fn indent(mut self, l: Length) -> Style {
        self.margin_left = Some(l);
        self
    }

    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        *self == Style::default()
    }

    /// Whether every value is one the parser would keep (the builder's check).
    pub(super) fn is_valid(&self) -> bool {
        self.font_family.len() <= MAX_FONT_FAMILIES
            && self.font_weight.is_none_or(FontWeight::is_valid)
    }

    /// Reads a `style` attribute: every declaration understood is kept, the others are
    /// dropped and counted in the second value.
    pub fn parse(css: &str) -> (Style, usize) {
        let mut style = Style::default();
        let mut dropped = 0;
        for decl in css.split(';') {
            if decl.trim().is_empty() {
                continue;
            }
            if !style.apply(decl) {
                dropped += 1;
            }
        }
        (style, dropped)
    }

    /// Applies one `property: value` declaration; false if it is not understood.
    fn apply(&mut self, decl: &str) -> bool {
        let Some((prop, value)) = decl.split_once(':') else {
            return false;
        };
        let prop = prop.trim();
        let mut value = value.trim();
        if let Some(v) = strip_suffix_ignore_case(value, "!important") {
            value = v.trim_end();
        }
        let p = |name: &str| prop.eq_ignore_ascii_case(name);
        if p("color") {
            set(&mut self.color, Color::parse(value))
        } else if p("background-color") {
            set(&mut self.background_color, Color::parse(value))
        } else if p("font-family") {
            let families: Option<Vec<FontFamily>> = value
                .split(',')
                .map(|f| FontFamily::parse(f.trim()))
                .collect();
            match families {
                Some(f) if !f.is_empty() && f.len() <= MAX_FONT_FAMILIES => {
                    self.font_family = f;
                    true
                }
                _ => false,
            }
        } else if p("font-size") {
            let size = SizeKeyword::parse(value)
                .map(FontSize::Keyword)
                .or_else(|| Length::parse(value).map(FontSize::Length));
            set(&mut self.font_size, size)
        } else if p("font-style") {
            set(&mut self.font_style, FontStyle::parse(value))
        } else if p("font-weight") {
            set(&mut self.font_weight, FontWeight::parse(value))
        } else if p("margin-left") {
            set(&mut self.margin_left, Length::parse(value))
        } else if p("margin-right") {
            set(&mut self.margin_right, Length::parse(value))
        } else if p("text-align") {
            set(&mut self.text_align, TextAlign::parse(value))
        } else if p("text-decoration") {
            set(&mut self.text_decoration, TextDecoration::parse(value))
        } else {
            false
        }
    }

    /// Properties of `other` that are set override those of `self`.
    pub(super) fn overlay(&mut self, other: Style) {
        let Style {
            color,
            background_color,
            font_family,
            font_size,
            font_style,
            font_weight,
            margin_left,
            margin_right,
            text_align,
            text_decoration,
        } = other;
        macro_rules! take {
            ($($f:ident),*) => { $( if $f.is_some() { self.$f = $f; } )* };
        }
        take!(
            color,
            background_color,
            font_size,
            font_style,
            font_weight,
            margin_left,
            margin_right,
            text_align,
            text_decoration
        );
        if !font_family.is_empty() {
            self.font_family = font_family;
        }
    }
}

impl fmt::Display for Style {
    /// The `style` attribute's value, properties in a fixed order: `prop:value;prop:value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut decl = |f: &mut fmt::Formatter<'_>, name: &str, v: &dyn fmt::Display| {
            let r = write!(f, "{sep}{name}:{v}");
            sep = ";";
            r
        };
        if let Some(c) = &self.color {
            decl(f, "color", c)?;
        }
        if let Some(c) = &self.background_color {
            decl(f, "background-color", c)?;
        }
        if !self.font_family.is_empty() {
            let mut list = String::new();
            for (i, fam) in self.font_family.iter().enumerate() {
                let _ = write!(list, "{}{fam}", if i == 0 { "" } else { "," });
            }
            decl(f, "font-family", &list)?;
        }
        match &self.font_size {
            Some(FontSize::Keyword(k)) => decl(f, "font-size", &k.as_str())?,
            Some(FontSize::Length(l)) => decl(f, "font-size", l)?,
            None => {}
        }
        if let Some(s) = &self.font_style {
            decl(f, "font-style", &s.as_str())?;
        }
        if let Some(w) = &self.font_weight {
            decl(f, "font-weight", w)?;
        }
        if let Some(l) = &self.margin_left {
            decl(f, "margin-left", l)?;
        }
        if let Some(l) = &self.margin_right {
            decl(f, "margin-right", l)?;
        }
        if let Some(a) = &self.text_align {
            decl(f, "text-align", &a.as_str())?;
        }
        if let Some(d) = &self.text_decoration {
            decl(f, "text-decoration", d)?;
        }
        Ok(())
    }
}

fn set<T>(slot: &mut Option<T>, v: Option<T>) -> bool {
    match v {
        Some(v) => {
            *slot = Some(v);
            true
        }
        None => false,
    }
}

/// `name( args )` → `args`, the name compared without case.
fn strip_function<'a>(v: &'a str, name: &str) -> Option<&'a str> {
    let open = v.find('(')?;
    if !v[..open].trim_end().eq_ignore_ascii_case(name) {
        return None;
    }
    v[open + 1..].strip_suffix(')')
}

fn strip_suffix_ignore_case<'a>(v: &'a str, suffix: &str) -> Option<&'a str> {
    let n = v.len().checked_sub(suffix.len())?;
    v.get(n..)?
        .eq_ignore_ascii_case(suffix)
        .then(|| v.get(..n))
        .flatten()
}

/// ASCII digits only (no sign, no `+`), at most 9 of them.
fn parse_uint(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The legacy `<font size>`: 1–7, or relative `+n` / `-n`.
pub(super) fn legacy_font_size(v: &str) -> Option<FontSize> {
    let v = v.trim();
    let k = if v.starts_with('+') {
        SizeKeyword::Larger
    } else if v.starts_with('-') {
        SizeKeyword::Smaller
    } else {
        match parse_uint(v)? {
            1 => SizeKeyword::XSmall,
            2 => SizeKeyword::Small,
            3 => SizeKeyword::Medium,
            4 => SizeKeyword::Large,
            5 => SizeKeyword::XLarge,
            6 | 7 => SizeKeyword::XxLarge,
            _ => return None,
        }
    };
    Some(FontSize::Keyword(k))
}

/// The legacy `<font face>`: a comma-separated list of families.
pub(super) fn legacy_font_face(v: &str) -> Vec<FontFamily> {
    v.split(',')
        .filter_map(|f| FontFamily::parse(f.trim()))
        .take(MAX_FONT_FAMILIES)
        .collect()
}

/// The legacy `<font color>` (also accepts `rrggbb` without `#`, as old clients sent).
pub(super) fn legacy_color(v: &str) -> Option<Color> {
    let v = v.trim();
    Color::parse(v).or_else(|| {
        (v.len() == 6 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Color::parse(&alloc::format!("#{v}")))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn lengths_are_canonical() {
        for (input, out) in [
            ("12pt", "12pt"),
            ("1.5em", "1.5em"),
            ("0.25in", "0.25in"),
            (".5EM", "0.5em"),
            ("5%", "5%"),
            ("0", "0px"),
            ("3.999px", "3.99px"),
        ] {
            assert_eq!(Length::parse(input).unwrap().to_string(), out, "{input}");
        }
        for bad in ["-1px", "1", "px", "1.px2", "1e3px", "+2px", "1001px", "."] {
            assert_eq!(Length::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn colors() {
        assert_eq!(Color::parse("#0f0"), Some(Color::rgb(0, 255, 0)));
        assert_eq!(Color::parse("#FF8000"), Some(Color::rgb(255, 128, 0)));
        assert_eq!(Color::parse("RGB(1, 2,3)"), Some(Color::rgb(1, 2, 3)));
        assert_eq!(
            Color::parse("rgb(100%,0%,50%)"),
            Some(Color::rgb(255, 0, 128))
        );
        assert_eq!(Color::parse("Green"), Some(Color::rgb(0, 128, 0)));
        for bad in [
            "#12",
            "rgb(1,2)",
            "rgb(1,2,3,4)",
            "rgb(256,0,0)",
            "expression(1)",
        ] {
            assert_eq!(Color::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn unknown_declarations_are_dropped_alone() {
        let (s, dropped) = Style::parse(
            "color: red; behavior: url(x.htc); font-weight: bold !important; \
             background-color: expression(alert(1)); font-family: 'Times New Roman', serif",
        );
        assert_eq!(dropped, 2);
        assert_eq!(
            s.to_string(),
            "color:#ff0000;font-family:\"Times New Roman\",serif;font-weight:bold"
        );
    }
}
