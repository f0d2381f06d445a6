/**
 * The CDK app: `npm run synth` (offline, no credentials). cdk-nag's AWS Solutions checks run on every
 * synth; every acknowledged finding carries its reason (nag.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeFindings } from './nag.js';
import { GuestRelayStack } from './stack.js';

export function buildApp(app = new App()): { app: App; stack: GuestRelayStack } {
  const stack = new GuestRelayStack(app, 'GuestRelay', {
    description: 'guest-relay: simulated Genesys Web Messaging guests over WebSocket',
  });
  acknowledgeFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().app.synth();
}
