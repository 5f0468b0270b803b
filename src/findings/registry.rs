//! The registry: every family's codes joined into one [`Code`], in report order.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::checks::{bucket, identity, jobs, kms, model, org, passrole, quotas, role_invoke, role_s3, trust};
use crate::findings::Severity;
use crate::validate::diags as input;

macro_rules! registry {
    ($( $variant:ident => $t:ty ),* $(,)?) => {
        /// Any finding code, of `check` or `validate`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant($t), )* }

        $( impl From<$t> for Code { fn from(c: $t) -> Code { Code::$variant(c) } } )*

        impl Code {
            pub fn as_str(self) -> &'static str { match self { $( Code::$variant(c) => c.as_str(), )* } }
            pub fn family(self) -> &'static str { match self { $( Code::$variant(_) => <$t>::FAMILY, )* } }
            pub fn severity(self) -> Severity { match self { $( Code::$variant(c) => c.severity(), )* } }
            pub fn description(self) -> &'static str { match self { $( Code::$variant(c) => c.description(), )* } }
            pub fn long(self) -> &'static str { match self { $( Code::$variant(c) => c.long(), )* } }
            /// Every code, family by family in report order.
            pub fn all() -> Vec<Code> {
                let mut v = Vec::new();
                $( v.extend(<$t>::ALL.iter().map(|c| Code::from(*c))); )*
                v
            }
        }

        /// The families in report order: (family, heading).
        pub const FAMILIES: &[(&str, &str)] = &[ $( (<$t>::FAMILY, <$t>::HEADING), )* ];
    };
}

registry! {
    Identity => identity::Code,
    Model => model::Code,
    Trust => trust::Code,
    RoleS3 => role_s3::Code,
    RoleInvoke => role_invoke::Code,
    Kms => kms::Code,
    Bucket => bucket::Code,
    Passrole => passrole::Code,
    Org => org::Code,
    Quotas => quotas::Code,
    Jobs => jobs::Code,
    Input => input::Code,
}

impl Code {
    /// The code named `s` (kebab-case), if there is one.
    pub fn parse(s: &str) -> Option<Code> {
        Code::all().into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let s = String::deserialize(d)?;
        Code::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown finding code {s:?}")))
    }
}
