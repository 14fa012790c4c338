// The whole Teleconsult SDK: both namespaces are exported, so nothing is tree-shaken away and
// the measured size is an upper bound for any app (each .wasm is counted whole in any case).
import * as t from 'teleconsult';
import * as devices from 'teleconsult/devices';

export default { t, devices };
