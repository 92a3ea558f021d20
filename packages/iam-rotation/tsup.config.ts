import { defineConfig } from 'tsup';
import { baseTsup } from '../../tsup.base';

export default defineConfig(baseTsup({ index: 'src/index.ts', testing: 'src/testing.ts' }));
