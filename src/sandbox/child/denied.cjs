// Stands in for every network-capable module inside an interpreter process (see seal.ts):
// code that reaches for a socket finds an empty object and nothing to connect with.
module.exports = {};
