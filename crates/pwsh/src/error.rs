//! The crate's errors, worded as PowerShell words them so administrators recognise them.

/// A syntax error, with the 1-based line and column (in characters) where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("At line:{line} char:{column}\n{message}")]
pub struct ParseError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// What is wrong, e.g. `The string is missing the terminator: '.`
    pub message: String,
    /// True when more input could complete the statement (open quote, brace, paren, trailing pipe or backtick).
    pub incomplete: bool,
}

/// An error raised while binding or running a statement. The runner prefixes command-related errors with
/// `<Cmdlet> : `, as PowerShell does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The script did not parse; nothing ran.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// No built-in or host command has this name.
    #[error(
        "The term '{0}' is not recognized as a name of a cmdlet, function, script file, or executable program. \
         Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
    )]
    CommandNotFound(String),
    /// `-Name` matches no parameter of the command.
    #[error("A parameter cannot be found that matches parameter name '{0}'.")]
    ParameterNotFound(String),
    /// `-Name` is a prefix of several parameters.
    #[error(
        "Parameter cannot be processed because the parameter name '{name}' is ambiguous. Possible matches include: \
         {candidates}."
    )]
    AmbiguousParameter {
        /// The name as typed.
        name: String,
        /// The candidates, each written `-Name`, separated by spaces.
        candidates: String,
    },
    /// The same parameter was given twice.
    #[error(
        "Cannot bind parameter because parameter '{0}' is specified more than once. To provide multiple values to \
         parameters that can accept multiple values, use the array syntax. For example, \"-parameter \
         value1,value2,value3\"."
    )]
    DuplicateParameter(String),
    /// A non-switch parameter was given without a value.
    #[error("Missing an argument for parameter '{name}'. Specify a parameter of type '{type_name}' and try again.")]
    MissingArgument {
        /// The parameter's canonical name.
        name: String,
        /// The .NET type PowerShell would name.
        type_name: String,
    },
    /// A value does not convert to the parameter's type.
    #[error("Cannot bind parameter '{name}'. {reason}")]
    Conversion {
        /// The parameter's canonical name.
        name: String,
        /// Why, e.g. `Cannot convert value "maybe" to type "System.Boolean".`
        reason: String,
    },
    /// `$null` given to a mandatory parameter.
    #[error("Cannot bind argument to parameter '{0}' because it is null.")]
    NullArgument(String),
    /// More positional arguments than positional parameters.
    #[error("A positional parameter cannot be found that accepts argument '{0}'.")]
    PositionalNotFound(String),
    /// Mandatory parameters of the chosen parameter set were not given.
    #[error("Cannot process command because of one or more missing mandatory parameters: {0}.")]
    MissingMandatory(String),
    /// No parameter set contains every parameter given.
    #[error("Parameter set cannot be resolved using the specified named parameters.")]
    ParameterSetNotResolved,
    /// A piped object matched no parameter that takes pipeline input.
    #[error(
        "The input object cannot be bound to any parameters for the command either because the command does not \
         take pipeline input or the input and its properties do not match any of the parameters that take \
         pipeline input."
    )]
    InputNotBound,
    /// An expression could not be evaluated (bad comparison, unsupported regex, too large a range, …).
    #[error("{0}")]
    Runtime(String),
}
