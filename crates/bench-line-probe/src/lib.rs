//! `#[line_probe]`: line-level profiling by statement probes.
//!
//! The attribute keeps the function's body as it is and adds a second, probed copy in which
//! every statement (at every nesting level, closures excepted) is wrapped in a block that
//! starts with a timing guard: `{ guard; stmt; }`, or `let p = { guard; init };` so bindings
//! stay in scope. Item and macro statements are left alone. At each call one relaxed atomic load
//! (`bench_core::probe::enabled()`) picks the copy, so the annotated function runs unchanged
//! unless a line profile is being taken. Counters live in statics generated next to the
//! function; `bench-profile` reads them through `bench_core::probe::tables()`.
//!
//! The crate using the attribute must depend on `bench-core`.
//!
//! ```
//! #[bench_line_probe::line_probe]
//! fn sum_of_squares(n: u64) -> u64 {
//!     let mut s = 0;
//!     for i in 0..n {
//!         s += i * i;
//!     }
//!     s
//! }
//! bench_core::probe::set_enabled(true);
//! assert_eq!(sum_of_squares(10), 285);
//! bench_core::probe::set_enabled(false);
//! let t = bench_core::probe::tables().into_iter().find(|t| t.function.ends_with("sum_of_squares")).unwrap();
//! // `s += i * i` ran ten times.
//! let hits: Vec<u64> = t.counters.iter().map(|c| c.read().0).collect();
//! assert!(hits.contains(&10));
//! ```

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, ItemFn, Stmt, parse_macro_input};

/// Adds line probes to a function (see the crate documentation).
#[proc_macro_attribute]
pub fn line_probe(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "#[line_probe] takes no arguments")
            .to_compile_error()
            .into();
    }
    let func = parse_macro_input!(item as ItemFn);
    let original = func.block.clone();
    let mut probed = (*func.block).clone();
    let mut inserter = Inserter { spans: Vec::new() };
    inserter.visit_block_mut(&mut probed);
    let n = inserter.spans.len();
    let lines: Vec<TokenStream2> = inserter.spans.iter().map(|s| quote_spanned!(*s=> line!())).collect();
    let fn_line = quote_spanned!(func.sig.fn_token.span=> line!());
    let end_line = quote_spanned!(func.block.brace_token.span.close()=> line!());
    let name = func.sig.ident.to_string();
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    let expanded = quote! {
        #(#attrs)*
        #vis #sig {
            static __BENCH_PROBE_COUNTERS: [::bench_core::probe::LineCounter; #n] =
                [const { ::bench_core::probe::LineCounter::new() }; #n];
            static __BENCH_PROBE_TABLE: ::bench_core::probe::LineTable = ::bench_core::probe::LineTable::new(
                concat!(module_path!(), "::", #name),
                file!(),
                (#fn_line, #end_line),
                &[#(#lines),*],
                &__BENCH_PROBE_COUNTERS,
            );
            if ::bench_core::probe::enabled() {
                __BENCH_PROBE_TABLE.register();
                #probed
            } else {
                #original
            }
        }
    };
    expanded.into()
}

struct Inserter {
    spans: Vec<Span>,
}

impl Inserter {
    /// A new probe for a statement at `span`: the `let` that starts its guard.
    fn guard(&mut self, span: Span) -> TokenStream2 {
        let k = self.spans.len();
        self.spans.push(span);
        let ident = syn::Ident::new(&format!("__bench_probe_{k}"), Span::mixed_site());
        let enter = quote! { let #ident = ::bench_core::probe::Probe::enter(&__BENCH_PROBE_COUNTERS[#k]); };
        enter
    }
}

impl VisitMut for Inserter {
    fn visit_block_mut(&mut self, block: &mut Block) {
        let stmts = std::mem::take(&mut block.stmts);
        let last = stmts.len().saturating_sub(1);
        for (i, mut stmt) in stmts.into_iter().enumerate() {
            // Instrument nested blocks first (loop bodies, if/else branches, blocks).
            syn::visit_mut::visit_stmt_mut(self, &mut stmt);
            let span = stmt.span();
            match stmt {
                // Items and macro statements (which may declare items or bindings) stay as
                // they are.
                Stmt::Item(_) | Stmt::Macro(_) => block.stmts.push(stmt),
                Stmt::Local(mut local) => {
                    // `let p = { guard; init };` times the initialiser; the binding stays in scope.
                    if let Some(init) = local.init.as_mut() {
                        let enter = self.guard(span);
                        let expr = &init.expr;
                        let wrapped: Expr = syn::parse_quote! { { #enter #expr } };
                        *init.expr = wrapped;
                    }
                    block.stmts.push(Stmt::Local(local));
                }
                Stmt::Expr(expr, semi) => {
                    // `{ guard; expr }` (a tail expression keeps its value; a statement its `;`).
                    let enter = self.guard(span);
                    let wrapped: Expr = match semi {
                        Some(_) => syn::parse_quote! { { #enter #expr; } },
                        None => syn::parse_quote! { { #enter #expr } },
                    };
                    block.stmts.push(Stmt::Expr(wrapped, if i == last { None } else { semi }));
                }
            }
        }
    }

    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {
        // Closures run elsewhere (e.g. on other threads); their time counts on the calling line.
    }

    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
