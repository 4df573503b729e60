//! `unfold(array)` as a derived or selected column: the row is repeated for each item of
//! the array, the column holding the item, as Spark's `explode` does (a row whose array is
//! empty or null is dropped). One `unfold` per step: two would need the arrays' lengths to
//! agree, which ADF does not document.

use polars::prelude::{cols, ExplodeOptions, LazyFrame};

use super::steps::Step;
use super::ExecError;
use crate::dataflow::ast::{Arg, Expr};
use crate::dataflow::expr::{DfType, Scope, Typed};
use crate::dataflow::source::Problem;

/// The array of a column written `unfold(array)`.
fn unfolded(value: &Expr) -> Option<&Expr> {
    match value.as_call() {
        Some((name, [Arg::Positional(array)])) if name.eq_ignore_ascii_case("unfold") => {
            Some(array)
        }
        _ => None,
    }
}

impl Step<'_> {
    /// Compiles the column `name = value` of a derive or select; an `unfold(array)` column
    /// compiles to its array, and `unfolded` remembers it for [`Step::explode_unfolded`].
    pub(super) fn compile_column(
        &self,
        value: &Expr,
        name: &str,
        scope: &Scope,
        unfolded_column: &mut Option<String>,
    ) -> Result<Typed, ExecError> {
        let Some(array) = unfolded(value) else {
            return self.compile(value, scope);
        };
        let t = self.compile(array, scope)?;
        self.unfold_column(&t, array, name, unfolded_column)?;
        Ok(t)
    }

    /// Checks that an unfolded column is an array, and that it is the step's only one.
    fn unfold_column(
        &self,
        array: &Typed,
        at: &Expr,
        name: &str,
        earlier: &mut Option<String>,
    ) -> Result<(), ExecError> {
        if !matches!(array.ty, DfType::Array(_)) {
            return Err(self.invalid(
                Problem::new(
                    at.span,
                    format!("`unfold` takes an array, not {}", array.ty.name()),
                )
                .help("unfold an array column, such as unfold(toRecipients)"),
            ));
        }
        if let Some(first) = earlier {
            return Err(self.unsupported(format!(
                "a second unfold (`{name}`, after `{first}`) in one step; unfold one array per step"
            )));
        }
        *earlier = Some(name.to_owned());
        Ok(())
    }

    /// The rows of `frame` repeated for each item of the unfolded column, if there is one.
    pub(super) fn explode_unfolded(&self, frame: LazyFrame, column: Option<String>) -> LazyFrame {
        match column {
            Some(name) => frame.explode(
                cols([name]),
                ExplodeOptions {
                    empty_as_null: false,
                    keep_nulls: false,
                },
            ),
            None => frame,
        }
    }
}
