import { moreFaults } from './fault-matrix.js';

moreFaults();
