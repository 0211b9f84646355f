// unattend.xml: model, parse/render, profile → settings, merge, lint, passwords, KMS keys.
export * from './model.ts';
export * from './xml.ts';
export * from './passwords.ts';
export * from './kms.ts';
export * from './components.ts';
export * from './profile.ts';
export * from './lint.ts';
