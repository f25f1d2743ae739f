/**
 * Common given names from several languages (English, Spanish, Portuguese, French, German,
 * Italian, Dutch, Nordic, Slavic, Arabic, Turkish, Persian, South Asian, East Asian, African),
 * lower case. A capitalized word from this list followed by a capitalized surname reads as a
 * person's name. Given names that are also ordinary capitalized words in threat reports
 * (months, days, "Will", "Hope", "Chase", "Hunter", "Page", "Georgia" …) are left out on
 * purpose: they cost more false findings than they find names. Not meant to be complete; names
 * outside it are still found after a context word ("reported by", "employee" …) or an honorific.
 */
const NAMES = `
aaron abby abdul abdullah abel abigail abraham ada adam adaeze adebayo adele adeline adrian adriana
agnes ahmad ahmed aidan aiden aisha akira akosua alan albert alberto alejandra alejandro aleksandr
aleksandra alessandra alessandro alex alexa alexander alexandra alexandre alexei alexis alfie alfred
ali alice alicia alina alisha alison allan allison alma amal amanda amara amber amelia amina amir amit
amy ana anastasia anders andre andrea andreas andrei andres andrew andrzej andy angela angelica
angelo anika anita anja ann anna anne annette anthony antoine anton antonio anya arash arjun arnav
arthur arturo aryan asha ashley ashok astrid audrey ava axel ayesha ayumi aziz barbara barry
bartosz beatrice beatriz becky ben benjamin bernard bernd bethany betty beverly bianca bilal bill
birgit bjorn blake bogdan boris brad bradley brandon brenda brendan brian bridget brittany bruce
bruno bryan caitlin caleb camila camille candice carl carla carlos carmen carol carolina caroline
carolyn casey catherine cathy cecilia cesar chad charles charlie charlotte chen cheryl chidi
chinedu chioma chloe chris christian christina christine christopher chukwuemeka cindy claire
clara claudia clement colin connor conor constance craig cristina crystal curtis cynthia dagmar
daisuke dale damian dan dana daniel daniela daniele danielle danny dario darius darren dave david
dawid dean debbie deborah deepak denis denise dennis derek diana diane diego dieter dimitri
dimitrios dmitri dmitry dominic dominik donald donna doris dorothy doug douglas dylan ebony ed
eduardo edward edwin eileen elaine eleanor elena eli elias elif elijah elisa elisabeth elizabeth
ella ellen ellie emeka emil emilia emilio emily emma emmanuel enrique eric erica erik erin ernesto
esra esther ethan eugene eva evan evelyn ewa fabian fabio farah farid fatima fatma federico felipe
felix fernando filip fiona florian frances francesca francesco francis francisco frank franz
freddie frederick freya gabriel gabriela gabriele gareth gary gavin gemma george gerald gerhard
giovanni giulia giuseppe gloria gordon grace graham greg gregory greta guillaume gunnar gustavo
hamid hana hannah hans harold harper harry harvey hassan hayley heather hector heidi heinz helen
helena helga henrik henry hiroshi hiroki hugo hussein ian ibrahim ida igor ilse imran ines ingrid
irene iris irina isaac isabel isabella isabelle ismail ivan jack jackie jacob jacqueline jade jake
james jamie jan jana jane janet janice jasmine jason javier jean jeff jeffrey jelena jennifer
jenny jeremy jerome jerry jessica jesus jill jim jimmy jiri joan joanna joao joe joel johan johann
johanna john jon jonas jonathan jordan jorge jose josef joseph josephine joshua joyce juan judith
judy julia julian juliana julie julien julio junaid jurgen justin kai kamal kamila karen karim
karin karl kasia kate katarzyna katherine kathleen kathryn katie katrin kayla keiko keith kelly
ken kenji kenneth kevin khalid kim kimberly kirsten klaus kofi kristen kristina krzysztof kumar
kurt kwame kyle lakshmi lara larry laura lauren laurent layla lea leah lena leo leon leonardo
leonie lewis liam lily linda lindsay lisa liam lorenzo louis louise lucas lucia luciana lucy luis
luka lukas lukasz luke lydia lynn magdalena maja malik manfred manuel manuela marc marcel marcin
marco marcos marcus margaret margarita maria mariana marie marina mario marion marisa mark marta
martha martin martina mary maryam mateo mateusz mathieu matilda matteo matthew matthias maureen
max maxim maximilian maya megan mehdi mehmet melanie melissa mia michael michaela michal michel
michelle miguel mika mikael mike mikhail milan milena min ming miriam mohamed mohammad mohammed
monica monika morgan muhammad mustafa nadia nadine nancy naoki naomi natalia natalie natasha
nathan nathalie neil nicholas nick nicola nicolas nicole niels nikita nikolai nikolaos nils nina
noah noel nora norbert nour oksana olga oliver olivia omar oscar pablo pamela paola patricia
patrick paul paula pauline pavel pedro peter petra philip philipp philippe pierre pietro piotr
pooja priya priyanka rachel rafael rahul rajesh ralf ramon randy raphael raquel raul ravi rebecca
reza ricardo richard rita robert roberto robin roger roland roman ronald rosa ruben rudolf russell
ruth ryan sabine sabrina sahil said sakura salma sam samantha samir samuel sandra sanjay santiago
sara sarah sasha satoshi scott sean sebastian sergei sergey sergio shannon sharon shaun sheila
shirley shreya simon simone siobhan sofia sonia sophia sophie stefan stefanie stella stephan
stephanie stephen steve steven stuart sunil susan susanne suzanne sven sylvia tamara tanja tanya
tara teresa terry thabo thomas tiffany tim timothy tina tobias todd tom tomas tony tracy travis
tyler ursula uwe valentina valeria vanessa vera veronica victor victoria viktor vincent virginia
vivek vladimir walter wayne wei wendy werner william wojciech wolfgang xavier xin yan yasmin
yuki yusuf yuri yvonne zainab zara zoe zoltan zofia
`;

export const FIRST_NAMES: ReadonlySet<string> = new Set(NAMES.split(/\s+/).filter(Boolean));

/** Compares without accents: "José" and "Jose", "Łukasz" and "Lukasz" look up the same entry. */
export function isFirstName(word: string): boolean {
  return FIRST_NAMES.has(foldName(word));
}

export function foldName(word: string): string {
  return word
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L')
    .replace(/ø/g, 'o')
    .replace(/ß/g, 'ss')
    .toLowerCase();
}
