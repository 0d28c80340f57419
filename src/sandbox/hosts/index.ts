export { answerAs } from './answer.js';
