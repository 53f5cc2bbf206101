//! Small text utilities of the formula language: `{{var}}` substitution, globs over step ids,
//! step conditions, `waits_for` values and loop range expressions.

use std::collections::BTreeMap;

/// Whether `name` can be a variable name: `[A-Za-z_][A-Za-z0-9_-]*`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Replace each `{{name}}` (spaces inside the braces allowed) whose name is in `vars`.
/// Other `{{...}}` are kept verbatim; `unresolved` is called with each variable-like name
/// that had no value (Go-template actions such as `{{.leg.id}}` or `{{if .x}}` are not
/// variable-like and are left alone silently).
pub fn substitute(
    text: &str,
    vars: &BTreeMap<String, String>,
    unresolved: &mut dyn FnMut(&str),
) -> String {
    substitute_within(text, vars, unresolved, usize::MAX).expect("no limit")
}

/// `substitute`, or `None` as soon as the result would exceed `limit` bytes (so a text
/// with many references to a long value never allocates more than the limit).
pub fn substitute_within(
    text: &str,
    vars: &BTreeMap<String, String>,
    unresolved: &mut dyn FnMut(&str),
    limit: usize,
) -> Option<String> {
    substitute_with_limit(
        text,
        &mut |inner| {
            if !is_var_name(inner) {
                return None;
            }
            let value = vars.get(inner).cloned();
            if value.is_none() {
                unresolved(inner);
            }
            value
        },
        limit,
    )
}

/// Replace each `{{inner}}` for which `lookup(inner.trim())` gives a value; keep the others.
pub fn substitute_with(text: &str, lookup: &mut dyn FnMut(&str) -> Option<String>) -> String {
    substitute_with_limit(text, lookup, usize::MAX).expect("no limit")
}

fn substitute_with_limit(
    text: &str,
    lookup: &mut dyn FnMut(&str) -> Option<String>,
    limit: usize,
) -> Option<String> {
    if !text.contains("{{") {
        return Some(text.to_string());
    }
    let mut out = String::with_capacity(text.len().min(limit));
    let mut rest = text;
    let push = |out: &mut String, piece: &str| {
        if out.len().saturating_add(piece.len()) > limit {
            return false;
        }
        out.push_str(piece);
        true
    };
    while let Some(start) = rest.find("{{") {
        if !push(&mut out, &rest[..start]) {
            return None;
        }
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let fits = match lookup(after[..end].trim()) {
                    Some(value) => push(&mut out, &value),
                    None => push(&mut out, &rest[start..start + 2 + end + 2]),
                };
                if !fits {
                    return None;
                }
                rest = &after[end + 2..];
            }
            None => {
                if !push(&mut out, &rest[start..]) {
                    return None;
                }
                rest = "";
            }
        }
    }
    push(&mut out, rest).then_some(out)
}

/// Names of the variables referenced as `{{name}}` in `text`.
pub fn referenced_vars(text: &str, out: &mut Vec<String>) {
    let empty = BTreeMap::new();
    substitute(text, &empty, &mut |name| {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    });
}

/// Replace single-brace placeholders such as `{target}` or `{step.id}`.
pub fn replace_placeholders(text: &str, pairs: &[(&str, &str)]) -> String {
    if !text.contains('{') {
        return text.to_string();
    }
    let mut out = text.to_string();
    for (key, value) in pairs {
        let needle = format!("{{{key}}}");
        if out.contains(&needle) {
            out = out.replace(&needle, value);
        }
    }
    out
}

/// Glob over step ids: `*` matches any run of characters (dots included), `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Truthiness of a variable value in a condition.
pub fn truthy(value: &str) -> bool {
    let v = value.trim();
    !(v.is_empty()
        || v.eq_ignore_ascii_case("false")
        || v == "0"
        || v.eq_ignore_ascii_case("no")
        || v.eq_ignore_ascii_case("off"))
}

/// Evaluate a step `condition`: `{{v}}`, `!{{v}}`, `{{v}} == x`, `{{v}} != x`
/// (x may be quoted). Unset variables are empty.
pub fn eval_condition(condition: &str, vars: &BTreeMap<String, String>) -> Result<bool, String> {
    let cond = condition.trim();
    if cond.is_empty() {
        return Ok(true);
    }
    let value_of = |text: &str| -> String {
        let out = substitute_with(text.trim(), &mut |inner| {
            is_var_name(inner).then(|| vars.get(inner).cloned().unwrap_or_default())
        });
        unquote(out.trim()).to_string()
    };
    for op in ["==", "!="] {
        if let Some((left, right)) = cond.split_once(op) {
            if left.trim().is_empty() || right.trim().is_empty() {
                return Err(format!("condition '{condition}' is missing an operand"));
            }
            let equal = value_of(left) == value_of(right);
            return Ok(if op == "==" { equal } else { !equal });
        }
    }
    if let Some(rest) = cond.strip_prefix('!') {
        return Ok(!truthy(&value_of(rest)));
    }
    if !cond.contains("{{") {
        return Err(format!(
            "condition '{condition}' must use a variable: {{{{v}}}}, !{{{{v}}}}, {{{{v}}}} == x or {{{{v}}}} != x"
        ));
    }
    Ok(truthy(&value_of(cond)))
}

fn unquote(text: &str) -> &str {
    for q in ['"', '\''] {
        if text.len() >= 2 && text.starts_with(q) && text.ends_with(q) {
            return &text[1..text.len() - 1];
        }
    }
    text
}

/// A parsed `waits_for`: the gate (`all-children` / `any-children`) and the spawner step
/// (`children-of(<step>)`), if named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitsFor {
    pub gate: String,
    pub spawner: Option<String>,
}

pub fn parse_waits_for(value: &str) -> Option<WaitsFor> {
    let v = value.trim();
    if v == "all-children" || v == "any-children" {
        return Some(WaitsFor {
            gate: v.to_string(),
            spawner: None,
        });
    }
    let inner = v.strip_prefix("children-of(")?.strip_suffix(')')?.trim();
    if inner.is_empty() {
        return None;
    }
    Some(WaitsFor {
        gate: "all-children".to_string(),
        spawner: Some(inner.to_string()),
    })
}

/// Evaluate a loop range `start..end` whose bounds are integer expressions
/// (`+ - * / ^`, parentheses, `{var}` or `{{var}}`).
pub fn parse_range(range: &str, vars: &BTreeMap<String, String>) -> Result<(i64, i64), String> {
    let (start, end) = range
        .split_once("..")
        .ok_or_else(|| format!("range '{range}' must look like start..end"))?;
    Ok((eval_int(start, vars)?, eval_int(end, vars)?))
}

/// Evaluate an integer expression with variables.
pub fn eval_int(expr: &str, vars: &BTreeMap<String, String>) -> Result<i64, String> {
    let mut text = substitute(expr, vars, &mut |_| {});
    for (k, v) in vars {
        let needle = format!("{{{k}}}");
        if text.contains(&needle) {
            text = text.replace(&needle, v);
        }
    }
    let tokens: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut parser = Expr {
        t: &tokens,
        i: 0,
        src: expr,
        depth: 0,
    };
    let value = parser.sum()?;
    if parser.i != tokens.len() {
        return Err(format!("cannot evaluate '{}'", expr.trim()));
    }
    Ok(value)
}

struct Expr<'a> {
    t: &'a [char],
    i: usize,
    src: &'a str,
    /// Nesting so far: parentheses, unary minus and `^` recurse, so a hostile range such
    /// as 100,000 `(` would otherwise overflow the stack.
    depth: usize,
}

/// Deepest nesting an integer expression may have (real ranges use two or three levels).
const MAX_EXPR_DEPTH: usize = 64;

impl Expr<'_> {
    fn bad(&self) -> String {
        format!("cannot evaluate '{}'", self.src.trim())
    }

    fn too_deep(&self) -> String {
        let start: String = self.src.trim().chars().take(40).collect();
        format!("cannot evaluate '{start}…': nested more than {MAX_EXPR_DEPTH} levels deep")
    }

    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.product()?;
        while let Some(&c) = self.t.get(self.i) {
            if c != '+' && c != '-' {
                break;
            }
            self.i += 1;
            let r = self.product()?;
            v = if c == '+' {
                v.checked_add(r)
            } else {
                v.checked_sub(r)
            }
            .ok_or_else(|| self.bad())?;
        }
        Ok(v)
    }

    fn product(&mut self) -> Result<i64, String> {
        let mut v = self.power()?;
        while let Some(&c) = self.t.get(self.i) {
            if c != '*' && c != '/' {
                break;
            }
            self.i += 1;
            let r = self.power()?;
            v = if c == '*' {
                v.checked_mul(r)
            } else {
                v.checked_div(r)
            }
            .ok_or_else(|| self.bad())?;
        }
        Ok(v)
    }

    fn power(&mut self) -> Result<i64, String> {
        let base = self.atom()?;
        if self.t.get(self.i) == Some(&'^') {
            self.i += 1;
            // `2^2^2^…` recurses here without passing through atom's count.
            self.depth += 1;
            let exp = if self.depth > MAX_EXPR_DEPTH {
                Err(self.too_deep())
            } else {
                self.power()
            };
            self.depth -= 1;
            let exp = u32::try_from(exp?).map_err(|_| self.bad())?;
            return base.checked_pow(exp).ok_or_else(|| self.bad());
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(self.too_deep());
        }
        let value = self.atom_inner();
        self.depth -= 1;
        value
    }

    fn atom_inner(&mut self) -> Result<i64, String> {
        match self.t.get(self.i) {
            Some('(') => {
                self.i += 1;
                let v = self.sum()?;
                if self.t.get(self.i) != Some(&')') {
                    return Err(self.bad());
                }
                self.i += 1;
                Ok(v)
            }
            Some('-') => {
                self.i += 1;
                Ok(-self.atom()?)
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.t.get(self.i).is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                let digits: String = self.t[start..self.i].iter().collect();
                digits.parse().map_err(|_| self.bad())
            }
            _ => Err(self.bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitute_replaces_known_and_keeps_the_rest() {
        let mut missing = Vec::new();
        let out = substitute(
            "v{{version}} {{ version }} {{other}} {{.leg.id}} {{if .x}}",
            &vars(&[("version", "1.2")]),
            &mut |n| missing.push(n.to_string()),
        );
        assert_eq!(out, "v1.2 1.2 {{other}} {{.leg.id}} {{if .x}}");
        assert_eq!(missing, vec!["other".to_string()]);
    }

    #[test]
    fn substitute_handles_unterminated_braces() {
        let out = substitute("a {{b", &vars(&[("b", "x")]), &mut |_| {});
        assert_eq!(out, "a {{b");
    }

    #[test]
    fn glob_matches_like_the_original() {
        assert!(glob_match("implement", "implement"));
        assert!(!glob_match("implement", "implement.draft"));
        assert!(glob_match("*.implement", "shiny.implement"));
        assert!(glob_match("shiny.*", "shiny.a.b"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
    }

    #[test]
    fn conditions() {
        let v = vars(&[("ci", "true"), ("mode", "fast"), ("off", "false")]);
        assert_eq!(eval_condition("{{ci}}", &v), Ok(true));
        assert_eq!(eval_condition("{{off}}", &v), Ok(false));
        assert_eq!(eval_condition("{{unset}}", &v), Ok(false));
        assert_eq!(eval_condition("!{{off}}", &v), Ok(true));
        assert_eq!(eval_condition("{{mode}} == fast", &v), Ok(true));
        assert_eq!(eval_condition("{{mode}} == 'slow'", &v), Ok(false));
        assert_eq!(eval_condition("{{mode}} != \"slow\"", &v), Ok(true));
        assert!(eval_condition("mode", &v).is_err());
        assert!(eval_condition("{{mode}} ==", &v).is_err());
    }

    #[test]
    fn waits_for_forms() {
        assert_eq!(
            parse_waits_for("any-children").unwrap().gate,
            "any-children"
        );
        let w = parse_waits_for("children-of(survey)").unwrap();
        assert_eq!(w.spawner.as_deref(), Some("survey"));
        assert!(parse_waits_for("children-of()").is_none());
        assert!(parse_waits_for("sometimes").is_none());
    }

    #[test]
    fn ranges_and_expressions() {
        let v = vars(&[("disks", "10")]);
        assert_eq!(parse_range("1..2^{disks}-1", &v), Ok((1, 1023)));
        assert_eq!(parse_range("1..{{disks}}", &v), Ok((1, 10)));
        assert_eq!(eval_int("(2+3)*4-6/2", &v), Ok(17));
        assert_eq!(eval_int("2^3^2", &v), Ok(512));
        assert!(eval_int("2^", &v).is_err());
        assert!(parse_range("5", &v).is_err());
        assert!(eval_int("{nope}", &v).is_err());
    }
}
