// Finds card numbers in merchant text (rule literals, metadata values a rule saw) so that none
// is stored in a rule or recorded in an outcome.

const minimumDigits = 12;
const maximumDigits = 19;

function isDigit(character: string): boolean {
  return character >= '0' && character <= '9';
}

/**
 * Whether `text` holds 12 to 19 digits in a row passing the Luhn check; single spaces or dashes
 * between digits are part of the run, as card numbers are often written ("4242 4242 …").
 */
export function containsCardNumber(text: string): boolean {
  let digits = '';
  for (let index = 0; index <= text.length; index += 1) {
    const character = text.charAt(index);
    if (character !== '' && isDigit(character)) {
      digits += character;
      continue;
    }
    const separator = (character === ' ' || character === '-') && digits !== '';
    if (separator && isDigit(text.charAt(index + 1))) continue;
    if (digits.length >= minimumDigits && digits.length <= maximumDigits && luhnValid(digits)) {
      return true;
    }
    digits = '';
  }
  return false;
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let value = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
  }
  return sum % 10 === 0;
}
