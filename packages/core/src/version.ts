declare const __AWSKIT_VERSION__: string | undefined;

/** This build's version of awskit, sent in the user agent as `awskit/<version>`. */
export const AWSKIT_VERSION: string =
  typeof __AWSKIT_VERSION__ === 'string' ? __AWSKIT_VERSION__ : '0.0.0-dev';
