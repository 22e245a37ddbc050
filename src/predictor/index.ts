export * from './errors';
export * from './steps';
export * from './depth';
export * from './frame-tokens';
export * from './prompt-tokens';
export * from './pieces';
export * from './score';
export * from './predictor';
