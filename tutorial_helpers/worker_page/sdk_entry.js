// The package's own dist/index.window.js still calls require(), so a <script> tag cannot load it: esbuild bundles this.
window.TaskRouter = require('twilio-taskrouter');
