// Ink imports react-devtools-core only when DEV=true; the compiled binary never sets it.
// The real package cannot be bundled, so this stands in for it.
export default { connectToDevTools() {} };
