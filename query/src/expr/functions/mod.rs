//! Built-in functions: a registry of [`FunctionDef`]s, each binding its arguments (type check,
//! implicit casts, result type) and evaluating them over arrays.

use arrow::array::ArrayRef;
use arrow::datatypes::DataType as ArrowType;

use super::bound::Bound;

/// Bound arguments (cast as the function needs them) and the result type, or why they do not fit.
pub type Signature = Result<(Vec<Bound>, ArrowType), String>;

/// A built-in function.
pub struct FunctionDef {
    /// Upper-case name as Spark spells it; aliases are separate entries.
    pub name: &'static str,
    /// Checks and casts the arguments; returns them with the result type, or the reason they do
    /// not fit.
    pub bind: fn(Vec<Bound>) -> Signature,
    /// Evaluates over arrays of `rows` values each.
    pub evaluate: fn(&[ArrayRef], usize, &ArrowType) -> Result<ArrayRef, String>,
}

impl std::fmt::Debug for FunctionDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every supported function.
static FUNCTIONS: &[&[FunctionDef]] = &[];

/// The function called `name` (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS
        .iter()
        .flat_map(|group| group.iter())
        .find(|f| f.name.eq_ignore_ascii_case(name))
}
