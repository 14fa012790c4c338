// The whole Teleconsult SDK: the namespace is exported, so nothing is tree-shaken away and the
// measured size is an upper bound for any app (the .wasm is counted whole in any case).
import * as t from 'teleconsult';

export default t;
