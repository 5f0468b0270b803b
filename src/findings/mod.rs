//! Findings and their codes as small values.
//!
//! Every family declares its codes in its own `diags.rs` with [`family_codes!`] (a `Code` enum,
//! kebab-case on the wire, each code with its severity, one-line description and long form in
//! `docs/codes/CODE.md`) and one constructor per diagnostic that owns the evidence format. A
//! finding carries a [`Code`]: a copyable handle on what the family declared of that code (its
//! name, family, severity and one line), as rustc's `ErrCode` is a number. The registry that
//! joins every family's codes, in report order, with their long forms (what `explain` and the
//! SARIF rules read) is `crate::registry`, above the families: nothing here names a family.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// What a family declares of one code (a line of its [`family_codes!`]). The long form is not
/// here: it is the registry's (`crate::registry::long`).
#[derive(Debug)]
pub struct CodeInfo {
    /// Kebab-case, on the wire; never renamed once released.
    pub code: &'static str,
    pub family: &'static str,
    pub severity: Severity,
    pub description: &'static str,
}

/// Any finding code, of `check` or `validate`: a copyable handle on its family's declaration.
/// Made only from a family's own `Code` (`family::Code::X.into()`), so a mistyped code does not
/// compile; parsed from its name through the registry. Equal when the names are (a test in the
/// registry proves the names unique). No order of its own: the report order is the registry's.
#[derive(Clone, Copy)]
pub struct Code(&'static CodeInfo);

impl Code {
    /// A code from its family's declaration (what [`family_codes!`] generates).
    pub const fn declared(info: &'static CodeInfo) -> Code {
        Code(info)
    }
    pub fn as_str(self) -> &'static str {
        self.0.code
    }
    pub fn family(self) -> &'static str {
        self.0.family
    }
    pub fn severity(self) -> Severity {
        self.0.severity
    }
    pub fn description(self) -> &'static str {
        self.0.description
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Code) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Code {}

impl std::hash::Hash for Code {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Code").field(&self.as_str()).finish()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

// `Deserialize for Code` is in `crate::registry`: reading a code back needs every family's.

/// Declares a family's `Code` enum: `Variant = "kebab-code", Severity, "one line";`. It refers
/// to nothing but `crate::findings`; the registry lists the family by its `Code`.
#[macro_export]
macro_rules! family_codes {
    ($family:literal, $heading:literal; $( $variant:ident = $code:literal, $sev:ident, $desc:literal; )*) => {
        /// This family's finding codes (kebab-case on the wire; never renamed once released).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        /// What this family declares of each code, in the order of [`Code`]'s variants.
        static DECLARED: &[$crate::findings::CodeInfo] = &[ $( $crate::findings::CodeInfo {
            code: $code,
            family: $family,
            severity: $crate::findings::Severity::$sev,
            description: $desc,
        }, )* ];

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
            pub const FAMILY: &'static str = $family;
            pub const HEADING: &'static str = $heading;
            fn declared(self) -> &'static $crate::findings::CodeInfo {
                &DECLARED[self as usize]
            }
            pub fn as_str(self) -> &'static str {
                self.declared().code
            }
            pub fn severity(self) -> $crate::findings::Severity {
                self.declared().severity
            }
            pub fn description(self) -> &'static str {
                self.declared().description
            }
            /// The long form, `docs/codes/CODE.md` (read through `crate::registry::long`).
            pub fn long(self) -> &'static str {
                match self { $( Code::$variant => include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/codes/", $code, ".md")), )* }
            }
        }

        impl From<Code> for $crate::findings::Code {
            fn from(c: Code) -> $crate::findings::Code {
                $crate::findings::Code::declared(c.declared())
            }
        }

        impl serde::Serialize for Code {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

/// One diagnosis: a code, the resource at fault, what was compared, and the fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub title: String,
    /// The ARN or S3 URI at fault.
    pub resource: String,
    /// What was compared: the statement, the values, the quota.
    pub evidence: String,
    /// What to change; for a missing grant, the exact JSON statement to add.
    pub fix: String,
    /// Findings that follow from this one (a missing bucket cannot be read): listed under it,
    /// not counted as causes of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consequences: Vec<Finding>,
}

impl Finding {
    /// A finding with the code's own severity and title. Family constructors call this; checks
    /// call the constructors.
    pub fn new(code: impl Into<Code>, resource: impl Into<String>, evidence: impl Into<String>, fix: impl Into<String>) -> Finding {
        let code = code.into();
        Finding {
            code,
            severity: code.severity(),
            title: code.description().to_string(),
            resource: resource.into(),
            evidence: evidence.into(),
            fix: fix.into(),
            consequences: Vec::new(),
        }
    }

    pub fn family(&self) -> &'static str {
        self.code.family()
    }
}
