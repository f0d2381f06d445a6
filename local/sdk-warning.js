/**
 * Imported first by the entries a person starts on their own machine (bin/guest-relay.js, so `npm start`
 * and every `guest-relay` command, `npm run worker`, and the bench, chaos and fuzz scripts; the processes
 * they spawn inherit it). On Node < 22 the AWS SDK prints a six-line
 * NodeVersionSupportWarning once per process (@aws-sdk/core). It is about the SDK's future support, not
 * about anything the user can fix here: development machines run Node 20, and what the SDK will need is
 * what the cloud already runs (the Lambdas and the worker's image are on Node 22). A value the user set
 * wins: AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false shows the warning again (docs/local.md).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
