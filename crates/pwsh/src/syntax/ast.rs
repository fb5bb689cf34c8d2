//! The syntax tree. It holds no source positions (only each statement's text), so re-parsing a statement's
//! text yields an equal tree.

/// A parsed script: its top-level statements in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The statements, separated in the source by newlines or `;`.
    pub statements: Vec<Statement>,
}

/// One statement and its source text (for audit and for sending statements one at a time).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// What the statement does.
    pub kind: StatementKind,
    /// The source text from its first to its last token.
    pub text: String,
}

/// The kinds of statement.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// A pipeline whose output is shown.
    Pipeline(Pipeline),
    /// `$name = pipeline` or `$name += pipeline`; shows nothing.
    Assignment {
        /// The variable name without `$` (scope prefixes like `global:` removed).
        variable: String,
        /// `=` or `+=`.
        op: AssignOp,
        /// The right-hand side.
        value: Pipeline,
    },
}

/// An assignment operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `+=`
    Add,
}

/// `A | B | C`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The elements; only the first may be an expression.
    pub elements: Vec<PipelineElement>,
}

/// One element of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineElement {
    /// A value, e.g. `$m` or `"a","b"` (first element only).
    Expression(Expr),
    /// A command invocation.
    Command(Command),
}

/// A command as typed: its name and its parameters and arguments in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The name as typed, e.g. `Get-Mailbox`, `where`, `?`.
    pub name: String,
    /// Parameters and arguments in source order.
    pub elements: Vec<CommandElement>,
}

/// A parameter or argument of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandElement {
    /// `-Name` (value, if any, is the next element) or `-Name:value`.
    Parameter {
        /// The name as typed, without the dash.
        name: String,
        /// The value written after a colon.
        value: Option<Expr>,
    },
    /// A value: bound to the preceding parameter or positionally.
    Argument(Expr),
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal string: single-quoted, or a bare word in command mode.
    String(String),
    /// A double-quoted string with `$var` / `$(…)` parts.
    Expandable(Vec<StringPart>),
    /// An integer literal.
    Int(i64),
    /// `$name`.
    Variable(String),
    /// `target.Name`.
    Member {
        /// The value whose member is read.
        target: Box<Expr>,
        /// The member name.
        name: String,
    },
    /// `target[index]`.
    Index {
        /// The indexed value.
        target: Box<Expr>,
        /// The index expression.
        index: Box<Expr>,
    },
    /// A comma list `a,b,c`.
    Array(Vec<Expr>),
    /// `@( statements )`: always an array.
    ArraySubexpression(Vec<Statement>),
    /// `$( statements )`.
    Subexpression(Vec<Statement>),
    /// `( pipeline )`.
    Paren(Box<Pipeline>),
    /// `@{ Key = value; … }`.
    Hashtable(Vec<(String, Pipeline)>),
    /// `{ … }`.
    ScriptBlock(ScriptBlock),
    /// `left op right`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `-not x`, `!x`, `-x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `[type]operand` for `int`, `string`, `bool`, `datetime`, `array` (and `object[]`, `string[]`).
    Cast {
        /// The type name as written, lower-cased.
        type_name: String,
        /// The converted expression.
        operand: Box<Expr>,
    },
}

/// A piece of a double-quoted string.
#[derive(Debug, Clone, PartialEq)]
pub enum StringPart {
    /// Literal text (escapes already applied).
    Literal(String),
    /// `$name`.
    Variable(String),
    /// `$( statements )`.
    Subexpression(Vec<Statement>),
}

/// A script block `{ … }`: its source text and parsed statements.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptBlock {
    /// The source between the braces, as written.
    pub text: String,
    /// The parsed body.
    pub statements: Vec<Statement>,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `-and`
    And,
    /// `-or`
    Or,
    /// `-xor`
    Xor,
    /// A comparison; `case_sensitive` for the `-c…` forms.
    Compare {
        /// Which comparison.
        op: CompareOp,
        /// `-ceq`, `-clike`, … compare case-sensitively.
        case_sensitive: bool,
    },
    /// `+`
    Add,
    /// `-`
    Subtract,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `%`
    Remainder,
    /// `..`
    Range,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `-eq`
    Eq,
    /// `-ne`
    Ne,
    /// `-gt`
    Gt,
    /// `-ge`
    Ge,
    /// `-lt`
    Lt,
    /// `-le`
    Le,
    /// `-like`
    Like,
    /// `-notlike`
    NotLike,
    /// `-match`
    Match,
    /// `-notmatch`
    NotMatch,
    /// `-contains`
    Contains,
    /// `-notcontains`
    NotContains,
    /// `-in`
    In,
    /// `-notin`
    NotIn,
}

impl CompareOp {
    /// Parses an operator word without its dash (`eq`, `notlike`, …), lower-case.
    pub fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            "like" => CompareOp::Like,
            "notlike" => CompareOp::NotLike,
            "match" => CompareOp::Match,
            "notmatch" => CompareOp::NotMatch,
            "contains" => CompareOp::Contains,
            "notcontains" => CompareOp::NotContains,
            "in" => CompareOp::In,
            "notin" => CompareOp::NotIn,
            _ => return None,
        })
    }

    /// Every operator, with its word, for tables that map words to operators.
    pub const ALL: [(&'static str, CompareOp); 14] = [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
        ("like", CompareOp::Like),
        ("notlike", CompareOp::NotLike),
        ("match", CompareOp::Match),
        ("notmatch", CompareOp::NotMatch),
        ("contains", CompareOp::Contains),
        ("notcontains", CompareOp::NotContains),
        ("in", CompareOp::In),
        ("notin", CompareOp::NotIn),
    ];
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-not` or `!`
    Not,
    /// `-`
    Negate,
}
